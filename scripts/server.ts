import { ensureLocalServer, stopLocalServer } from '../src/devserver/local-server';

// `npm run server` starts the local dev server in the background; `npm run server:stop` stops it.
const command = process.argv[2];
if (command === 'start') {
  ensureLocalServer()
    .then(({ started }) =>
      console.log(started ? 'dev server running on 127.0.0.1:7233' : 'dev server already running on 127.0.0.1:7233'),
    )
    .catch((err) => {
      console.error(`error: ${(err as Error).message}`);
      process.exit(1);
    });
} else if (command === 'stop') {
  void stopLocalServer();
}
