/** Command-line options of `npm run bench -- …`. */

/** The scenarios, in the order they run. `fanout` includes the resumable-stream peer (scenario 5). */
export const scenarioNames = ['overhead', 'ttft', 'fanout', 'workers', 'coalesce', 'scaling', 'conversation'] as const;
/** A scenario name. */
export type ScenarioName = (typeof scenarioNames)[number];
/** Processes that `--profile` can run under `--cpu-prof`. */
export const profilable = ['api', 'worker', 'simulator', 'peer', 'floor'] as const;
/** A process name for `--profile`. */
export type Profilable = (typeof profilable)[number];

/** Parsed options. */
export interface BenchOptions {
  /** `--quick`: about a tenth of the sizes and short windows, for a smoke run. */
  readonly quick: boolean;
  /** `--only=a,b`: the scenarios to run (default all). `peer` is an alias of `fanout`. */
  readonly only: ReadonlySet<ScenarioName>;
  /** `--profile=api,worker`: run those processes with `--cpu-prof` (figures then include the profiler's cost). */
  readonly profile: ReadonlySet<Profilable>;
  /** `--no-peer`: skip resumable-stream in the fan-out scenario. */
  readonly peer: boolean;
  /** `--no-floor`: skip the socket floor (`bench/floor/`) in the fan-out scenario. */
  readonly floor: boolean;
  /** `--no-socket`: skip genrelay's WebSocket viewers in the fan-out scenario. */
  readonly socket: boolean;
  /** `--fanout=1000,5000`: override the viewer counts of the fan-out scenario. */
  readonly fanoutSizes: readonly number[] | undefined;
  /** `--workers=100,1000`: override the generation counts of the worker scenario. */
  readonly workerSizes: readonly number[] | undefined;
  /** `--runs=N`: how many times each scenario runs (default 3; the table shows medians and ranges). */
  readonly runs: number;
  /**
   * `--trace`: genrelay's API and worker run with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT at a local
   * sink, `bench/otlp-sink.ts`), to compare with the same scenario without it.
   */
  readonly trace: boolean;
}

const usage = `usage: npm run bench -- [--quick] [--only=${scenarioNames.join(',')}|peer] [--profile=${profilable.join(',')}] [--no-peer] [--no-floor] [--no-socket] [--fanout=N,…] [--workers=N,…] [--runs=N] [--trace]`;

/** Parses argv (without node and the script); throws with the usage on anything unknown. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  let quick = false;
  let peer = true;
  let floor = true;
  let socket = true;
  let only: Set<ScenarioName> = new Set(scenarioNames);
  const profile = new Set<Profilable>();
  let fanoutSizes: number[] | undefined;
  let workerSizes: number[] | undefined;
  let runs = 3;
  let trace = false;
  const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const sizes = (value: string): number[] => list(value).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a size: ${s}\n${usage}`);
    return n;
  });
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2) as [string, string?];
    if (flag === '--quick') quick = true;
    else if (flag === '--no-peer') peer = false;
    else if (flag === '--no-floor') floor = false;
    else if (flag === '--no-socket') socket = false;
    else if (flag === '--trace') trace = true;
    else if (flag === '--only') {
      only = new Set(list(value).map((s) => (s === 'peer' ? 'fanout' : s)).map((s) => {
        if (!(scenarioNames as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}\n${usage}`);
        return s as ScenarioName;
      }));
    } else if (flag === '--profile') {
      for (const p of list(value)) {
        if (!(profilable as readonly string[]).includes(p)) throw new Error(`cannot profile ${p}\n${usage}`);
        profile.add(p as Profilable);
      }
    } else if (flag === '--fanout') fanoutSizes = sizes(value);
    else if (flag === '--workers') workerSizes = sizes(value);
    else if (flag === '--runs') [runs = 3] = sizes(value);
    else if (flag === '--help' || flag === '-h') throw new Error(usage);
    else throw new Error(`unknown option ${arg}\n${usage}`);
  }
  return { quick, only, profile, peer, floor, socket, fanoutSizes, workerSizes, runs, trace };
}
