import { ensureLocalServer, localPorts, stopLocalServer } from '../src/devserver/local-server';

// `npm run server [-- --port N --ui-port M]` starts the local dev server in the background (also
// CELLOS_TEMPORAL_PORT / CELLOS_UI_PORT); `npm run server:stop` stops it.
const command = process.argv[2];
if (command === 'start') {
  Promise.resolve()
    .then(() => ensureLocalServer(console.log, localPorts(process.argv.slice(3))))
    .then(({ started, address, uiUrl }) => {
      console.log(`dev server ${started ? 'running' : 'already running'} on ${address}; Web UI: ${uiUrl}`);
      if (address !== '127.0.0.1:7233') console.log(`for the CLI and workers: export TEMPORAL_ADDRESS=${address}`);
    })
    .catch((err) => {
      console.error(`error: ${(err as Error).message}`);
      process.exit(1);
    });
} else if (command === 'stop') {
  void stopLocalServer();
}
