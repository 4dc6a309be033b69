import { errorText } from '../../util/errors.js';
import { countRequest } from '../../util/requests.js';
import { backoff } from '../../util/retry.js';
import { hopeless } from '../../util/unreachable.js';
import { authWarmUpMs, type Cluster } from './client.js';
import { watchStream } from './stream.js';

// A list + watch that survives dropped connections: it resumes from the last resourceVersion it saw (so no
// event is lost or replayed) and lists again when the server answers 410 Gone (that version has been
// compacted away). Every retry is counted and bounded; stop() aborts the open request.

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Listed<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}

export interface ResumableWatchOptions<T> {
  /**
   * Resume from this resourceVersion (a list the caller already holds) instead of listing first; when the
   * server has compacted it away (410 Gone) the watch lists again and calls onReset.
   */
  resourceVersion?: string;
  /** labelSelector / fieldSelector */
  query?: Record<string, string>;
  /** the server ends each watch after this long and we resume; below the client's 30 s inactivity limit */
  timeoutSeconds?: number;
  /** how long the watch keeps reconnecting while every attempt fails (an API server restart), default 90 s */
  maxOutageMs?: number;
  /** reconnections in all; the caller's deadline normally stops us long before */
  maxReconnects?: number;
  /** the whole current state, after the first list and after each re-list */
  onReset(items: T[]): void;
  onEvent(type: WatchEventType, object: T): void;
  /** the watch gave up; nothing more will be delivered */
  onFatal(error: Error): void;
}

// the client's own pauses: 500 ms, doubling, at most 5 s
const reconnectDelay = backoff(500, 5_000);

export class ResumableWatch<T extends { metadata?: { resourceVersion?: string } }> {
  /** connections re-established after the server or the network closed one */
  reconnects = 0;
  /** lists after 410 Gone */
  relists = 0;
  private resourceVersion = '';
  private failures = 0;
  /** when the current run of failures began */
  private failingSince = 0;
  /** when a connection last got no answer (the API server restarting) */
  private noAnswerAt = 0;
  private stopped = false;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly path: string,
    private readonly options: ResumableWatchOptions<T>,
  ) {}

  /** Lists (errors are thrown to the caller) and starts watching from the list's resourceVersion. */
  async start(): Promise<void> {
    if (this.options.resourceVersion) this.resourceVersion = this.options.resourceVersion;
    else await this.list();
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.controller?.abort();
    this.controller = undefined;
  }

  private async list(): Promise<void> {
    const list = await this.cluster.request<Listed<T>>('GET', this.path, { query: this.options.query });
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!this.stopped) this.options.onReset(list.items);
  }

  private connect(): void {
    if (this.stopped) return;
    const started = Date.now();
    let sawEvent = false;
    let gone = false;
    let serverError: string | undefined;
    countRequest();
    const params = {
      ...this.options.query,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.options.timeoutSeconds ?? 25,
    };
    const onObject = (type: string, object: T & { code?: number; message?: string }) => {
      if (this.stopped) return;
      if (type === 'ERROR') {
        if (object?.code === 410) gone = true;
        else serverError = `${object?.code ?? ''} ${object?.message ?? JSON.stringify(object)}`;
        return;
      }
      sawEvent = true;
      const rv = object?.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.options.onEvent(type, object);
    };
    const onDone = (error: unknown) => {
      this.controller = undefined;
      if (this.stopped) return;
      const status = (error as { statusCode?: number } | null)?.statusCode;
      if (gone || status === 410) return this.retry(() => this.relist(), 0);
      if (error || serverError) {
        const reason = serverError ?? errorText(error);
        const never = this.hopeless(error, status);
        if (never)
          return this.options.onFatal(new Error(`watch on ${this.path}: ${never}`, { cause: error }));
        if (status === undefined && !serverError) this.noAnswerAt = Date.now();
        if (this.failedTooLong())
          return this.options.onFatal(
            new Error(`watch on ${this.path} failed ${this.failures} times in a row, last: ${reason}`, {
              cause: error,
            }),
          );
        return this.retry(() => this.connect(), reconnectDelay(this.failures));
      }
      if (sawEvent) this.failures = 0;
      // a clean end (timeoutSeconds): resume at once, unless it closed straight away
      this.retry(() => this.connect(), Date.now() - started < 1_000 ? 200 : 0);
    };
    watchStream(this.cluster.kubeConfig, this.path, params, onObject, onDone)
      .then((controller) => {
        if (this.stopped) controller.abort();
        else this.controller = controller;
      })
      .catch(onDone);
  }

  private async relist(): Promise<void> {
    this.relists += 1;
    try {
      await this.list();
      this.failures = 0;
      this.connect();
    } catch (error) {
      if (this.failedTooLong())
        this.options.onFatal(
          new Error(`re-listing ${this.path} failed: ${errorText(error)}`, { cause: error }),
        );
      else this.retry(() => this.relist(), reconnectDelay(this.failures));
    }
  }

  /**
   * Why the watch cannot recover: credentials refused (401/403) other than just after an outage (a restarted
   * API server refuses until its authorizer has loaded), or a connection that no retry heals.
   */
  private hopeless(error: unknown, status: number | undefined): string | undefined {
    if ((status === 401 || status === 403) && Date.now() - this.noAnswerAt > authWarmUpMs)
      return `${status} ${status === 401 ? 'Unauthorized: the cluster credentials are not accepted' : 'Forbidden: the cluster credentials may not watch here'} (${errorText(error)})`;
    const server = this.cluster.kubeConfig.getCurrentCluster()?.server ?? '';
    return server ? hopeless(error, server, "the kubeconfig's server") : undefined;
  }

  /** Counts a failure; true once failures have lasted longer than the allowed outage. */
  private failedTooLong(): boolean {
    if (this.failures === 0) this.failingSince = Date.now();
    this.failures += 1;
    return Date.now() - this.failingSince > (this.options.maxOutageMs ?? 90_000);
  }

  private retry(next: () => void | Promise<void>, delayMs: number): void {
    if (this.stopped) return;
    this.reconnects += 1;
    if (this.reconnects > (this.options.maxReconnects ?? 1_000)) {
      this.options.onFatal(
        new Error(`watch on ${this.path} reconnected ${this.reconnects - 1} times; giving up`),
      );
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void next();
    }, delayMs);
  }
}
