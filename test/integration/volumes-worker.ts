// A process for the crash tests to SIGKILL at a random point: it creates and removes volumes, or
// copies an image's content into a fresh volume, printing "go" before it starts.
//   node volumes-worker.js churn <BERTH_ROOT>
//   node volumes-worker.js copyup <BERTH_ROOT> <volume> <overlayRoot> <link,link,...> <target>
import { lazySys } from '../../src/sys/index.js';
import { VolumeStore } from '../../src/volumes/store.js';
import { copyUp } from '../../src/volumes/copy-up.js';

const [mode, root, ...rest] = process.argv.slice(2);
const store = new VolumeStore({ root: root!, sys: lazySys });
process.stdout.write('go\n');
if (mode === 'churn') {
  for (let i = 0; ; i++) {
    store.create({ name: `churn-${i % 50}`, labels: { round: String(i) } });
    if (i % 3 === 2) await store.remove(`churn-${(i - 1) % 50}`, { force: true });
  }
} else if (mode === 'copyup') {
  const [volume, overlayRoot, links, target] = rest as [string, string, string, string];
  store.create({ name: volume });
  const r = copyUp(store, volume, { overlayRoot, lowerLinks: links.split(',') }, target);
  process.stdout.write(`${r.outcome}\n`);
}
