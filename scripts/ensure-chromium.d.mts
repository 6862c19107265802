export declare const DEFAULT_CHROMIUM: string;
/** The path of a Chromium binary, installed with apt-get when missing. Throws when it cannot be had. */
export declare function ensureChromium(options?: { log?: (message: string) => void }): string;
