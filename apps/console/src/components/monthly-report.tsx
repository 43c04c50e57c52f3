import { useState } from 'preact/hooks';

import { apiBlob, errorMessage } from '../app/api';
import { useConsole } from '../app/context';

const pad = (value: number) => String(value).padStart(2, '0');

/** `2026-11` of the browser's clock, `offset` months from now. */
function monthFromNow(offset: number): string {
  const now = new Date();
  const date = new Date(now.getFullYear(), now.getMonth() + offset, 1);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}`;
}

/**
 * The monthly report (issue 15): a month (the last complete one by default), opened as HTML in a
 * new tab or downloaded as PDF, in the console's language. Both are fetched with the session's
 * token (a plain link would carry none); the server scopes the report to the user's node.
 */
export function MonthlyReportPanel() {
  const { t, lang } = useConsole();
  const [month, setMonth] = useState(() => monthFromNow(-1));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const reportLang = lang === 'en' ? 'en' : 'zh';

  const fetchReport = async (format: 'html' | 'pdf'): Promise<string> => {
    const blob = await apiBlob('/api/v1/reports/monthly', { month, format, lang: reportLang });
    const url = URL.createObjectURL(blob);
    setTimeout(() => URL.revokeObjectURL(url), 5 * 60_000);
    return url;
  };
  const download = (url: string, extension: string) => {
    const link = document.createElement('a');
    link.href = url;
    link.download = `vigil-monthly-${month}-${reportLang}.${extension}`;
    link.click();
  };
  const run = async (work: () => Promise<void>, onError?: () => void) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await work();
    } catch (error) {
      onError?.();
      setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const openHtml = () => {
    // Opened during the click: a tab opened after the fetch would be taken for a pop-up.
    const tab = window.open('', '_blank');
    void run(
      async () => {
        const url = await fetchReport('html');
        if (tab) tab.location.href = url;
        else download(url, 'html');
      },
      () => tab?.close(),
    );
  };
  const downloadPdf = () => void run(async () => download(await fetchReport('pdf'), 'pdf'));

  return (
    <div class="panel monthly-report" id="monthly-report">
      <h3>{t('monthlyTitle')}</h3>
      <p class="muted small">{t('monthlyHint')}</p>
      <div class="filters">
        <label>
          {t('monthlyMonth')}{' '}
          <input
            type="month"
            id="monthly-report-month"
            value={month}
            max={monthFromNow(0)}
            onInput={event => setMonth(event.currentTarget.value)}
          />
        </label>
        <button type="button" id="monthly-report-html" disabled={busy || !month} onClick={openHtml}>
          {t('monthlyOpen')}
        </button>
        <button
          type="button"
          id="monthly-report-pdf"
          disabled={busy || !month}
          onClick={downloadPdf}
        >
          {t('monthlyPdf')}
        </button>
        {busy && <span class="muted small">{t('monthlyWorking')}</span>}
      </div>
      {failure && <p class="error">{t('monthlyFailed', { message: failure })}</p>}
    </div>
  );
}
