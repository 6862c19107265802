// Replaced by the dev-server global setup; pure unit tests need nothing.
export default function setup(): void {}
