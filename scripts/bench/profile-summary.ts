/* eslint-disable no-console */
/**
 * Where a backend spent its CPU: a summary of a V8 .cpuprofile written by
 * `BENCH_CPU_PROF=1 yarn bench ...` (see docs/benchmarks.md).
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs scripts/bench/profile-summary.ts \
 *     <file.cpuprofile> [<results.json> <window>] [--top 25]
 *
 * With a results file and a window name, only samples inside that window count:
 * `cold`, `warm`, `pairs` (the measured rounds of that backend), `firstTtl0`, `firstWarm`
 * (the first overview after a start), `entityOnly`, `objectsOnly` (five unrecorded calls
 * of one endpoint). Otherwise the whole life of the process counts (start-up included).
 * Prints self time by package and by function.
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  if (!url) return '(native / V8)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = /\/(plugins|packages)\/([^/]+)\//.exec(path);
  if (m) return `${m[1]}/${m[2]}`;
  if (path.startsWith('node:')) return 'node (core)';
  return path;
}

function main() {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  const positional = args.filter(
    (_, i) => !(topIndex >= 0 && (i === topIndex || i === topIndex + 1)),
  );
  const [file, resultsFile, windowName] = positional;
  if (!file) {
    console.error(
      'usage: profile-summary.ts <file.cpuprofile> [<results.json> <window>] [--top N]',
    );
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  let window: { startUs: number; endUs: number } | undefined;
  if (resultsFile && windowName) {
    const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    window = results.profileWindows?.[windowName];
    if (!window)
      throw new Error(
        `No window '${windowName}' in ${resultsFile} (run with BENCH_CPU_PROF=1)`,
      );
  }
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (window && (t < window.startUs || t > window.endUs)) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
    total += dt;
  }
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const key = `${functionName || '(anonymous)'}  ${
      url
        ? `${url
            .replace(/^file:\/\//, '')
            .replace(/^.*\/node_modules\//, '')}:${lineNumber + 1}`
        : ''
    }`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const busy = [...byPackage.values()].reduce((a, b) => a + b, 0);
  const print = (title: string, map: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(
        `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / busy)
          .toFixed(1)
          .padStart(5)}%  ${k}`,
      );
    }
  };
  console.log(
    `${file}${window ? ` (window ${windowName})` : ''}: ${(total / 1e6).toFixed(
      2,
    )} s sampled, ${(busy / 1e6).toFixed(2)} s busy (not idle)`,
  );
  print('self time by package', byPackage);
  print('self time by function', byFunction);
}

main();
