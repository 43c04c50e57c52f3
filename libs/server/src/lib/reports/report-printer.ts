import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Inject, Injectable, Logger } from '@nestjs/common';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';

/** Chromium prints one report in a few seconds; a minute means it hangs (killed, answered 503). */
export const PRINT_TIMEOUT_MS = 60_000;
/** Chromium processes at once: each takes ~150 MB and a core; more requests are refused (503). */
export const MAX_CONCURRENT_PRINTS = 2;
/** What Chromium may say on stderr that the error keeps (its tail). */
const STDERR_KEPT = 2000;

export type PrintFailure = 'chromium-missing' | 'busy' | 'timeout' | 'failed';

/** Why no PDF was printed: the controller answers it 503 with the reason. */
export class PrintUnavailableError extends Error {
  override readonly name = 'PrintUnavailableError';
  constructor(
    readonly reason: PrintFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Prints self-contained HTML to PDF with headless Chromium (`--print-to-pdf`), the executable
 * of VIGIL_CHROMIUM (Debian's `chromium`): no new dependency, nothing fetched (the page has no
 * external asset and background networking is off). Bounded: at most MAX_CONCURRENT_PRINTS
 * at once and PRINT_TIMEOUT_MS each. Every outcome is counted (`vigil_report_pdf_total`), and a
 * missing Chromium is said at start and in every refusal, never a silent empty answer.
 */
@Injectable()
export class ReportPrinter {
  private readonly logger = new Logger(ReportPrinter.name);
  private running = 0;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {
    const missing = this.missing();
    if (missing)
      this.logger.warn(`monthly report PDFs unavailable (HTML and JSON still work): ${missing}`);
  }

  /** Why Chromium cannot run, or undefined when its executable is there. */
  missing(): string | undefined {
    try {
      accessSync(this.config.chromiumPath, constants.X_OK);
      return undefined;
    } catch {
      return `Chromium not found or not executable at ${this.config.chromiumPath} (VIGIL_CHROMIUM; Debian package chromium)`;
    }
  }

  /** The PDF of `html`; rejects with PrintUnavailableError (counted) when none could be made. */
  async pdf(html: string): Promise<Buffer> {
    try {
      const pdf = await this.print(html);
      this.metrics.reportPdf.inc({ outcome: 'ok' });
      return pdf;
    } catch (error) {
      const failure =
        error instanceof PrintUnavailableError
          ? error
          : new PrintUnavailableError('failed', `PDF printing failed: ${(error as Error).message}`);
      this.metrics.reportPdf.inc({ outcome: failure.reason });
      this.logger.warn(`monthly report PDF not printed: ${failure.message}`);
      throw failure;
    }
  }

  private async print(html: string): Promise<Buffer> {
    const missing = this.missing();
    if (missing) throw new PrintUnavailableError('chromium-missing', missing);
    if (this.running >= MAX_CONCURRENT_PRINTS)
      throw new PrintUnavailableError(
        'busy',
        `${MAX_CONCURRENT_PRINTS} PDFs are being printed already: try again shortly`,
      );
    this.running += 1;
    const dir = await mkdtemp(join(tmpdir(), 'vigil-report-'));
    try {
      const page = join(dir, 'report.html');
      const output = join(dir, 'report.pdf');
      await writeFile(page, html, 'utf8');
      await this.chromium(
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--disable-extensions',
          '--disable-dev-shm-usage',
          `--user-data-dir=${join(dir, 'profile')}`,
          '--no-pdf-header-footer',
          `--print-to-pdf=${output}`,
          pathToFileURL(page).href,
        ],
        dir,
      );
      const pdf = await readFile(output).catch(() => undefined);
      if (!pdf || pdf.subarray(0, 5).toString('latin1') !== '%PDF-')
        throw new PrintUnavailableError('failed', 'Chromium exited without writing a PDF');
      return pdf;
    } finally {
      this.running -= 1;
      await rm(dir, { recursive: true, force: true });
    }
  }

  private chromium(args: readonly string[], cwd: string): Promise<void> {
    return new Promise((resolve, reject) => {
      // Its own process group: on timeout the browser and every helper it started are killed.
      const child = spawn(this.config.chromiumPath, args, {
        cwd,
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT);
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, PRINT_TIMEOUT_MS);
      child.once('error', error => {
        clearTimeout(timer);
        reject(new PrintUnavailableError('failed', `Chromium did not start: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        // Helpers (zygote, GPU, renderer) may outlive the browser for a moment.
        killGroup(child.pid);
        if (timedOut)
          reject(
            new PrintUnavailableError('timeout', `Chromium took more than ${PRINT_TIMEOUT_MS} ms`),
          );
        else if (code === 0) resolve();
        else
          reject(
            new PrintUnavailableError(
              'failed',
              `Chromium exited with ${signal ?? `code ${code}`}: ${lastLines(stderr)}`,
            ),
          );
      });
    });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || '(nothing on stderr)';
}
