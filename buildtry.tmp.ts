import { ensureBinaries } from './scripts/cluster/build';
import { clusterSettings } from './scripts/cluster/settings';
const t0 = Date.now();
const s = { ...clusterSettings({}, { CELLOS_CACHE_DIR: '/tmp/cellos-cache-test' }), toolsDir: '/tmp/cellos-tools-test' };
ensureBinaries(s);
console.log(`ensureBinaries (empty cellos cache, warm Go caches): ${((Date.now() - t0) / 1000).toFixed(0)} s`);
const t1 = Date.now();
ensureBinaries(s);
console.log(`again (cached): ${Date.now() - t1} ms`);
