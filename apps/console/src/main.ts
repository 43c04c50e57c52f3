import type { Alarm } from '@vigil/contracts';

import { AlarmSocket } from './app/alarm-socket';
import { translate, type Lang } from './app/i18n';

let lang: Lang = localStorage.getItem('vigil.lang') === 'en' ? 'en' : 'zh-CN';
let current: ReadonlyMap<string, Alarm> = new Map();
let connected = false;

const t = (key: string) => translate(lang, key);
const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

function applyLanguage(): void {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    element.textContent = t(element.dataset['i18n'] ?? '');
  }
  $('#lang').textContent = t('switchLang');
  renderConnection();
  renderAlarms();
}

function renderConnection(): void {
  const pill = $('#connection');
  pill.textContent = t(connected ? 'online' : 'offline');
  pill.className = `pill ${connected ? 'pill-on' : 'pill-off'}`;
}

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function renderAlarms(): void {
  const rows = [...current.values()].sort(
    (a, b) => a.priority - b.priority || b.raisedAt - a.raisedAt,
  );
  const body = $('#alarms tbody');
  body.replaceChildren(
    ...rows.map(alarm => {
      const tr = document.createElement('tr');
      tr.className = `p${alarm.priority}${alarm.state === 'active-unacknowledged' || alarm.state === 'returned-unacknowledged' ? ' unack' : ''}`;
      tr.dataset['alarmId'] = alarm.id;
      tr.dataset['state'] = alarm.state;
      tr.dataset['device'] = `${alarm.siteId}/${alarm.deviceId}`;
      tr.dataset['level'] = alarm.level;
      tr.append(
        cell(`P${alarm.priority}`),
        cell(t(alarm.state)),
        cell(`${alarm.siteId}/${alarm.deviceId}`),
        cell(`${alarm.ruleId} ${alarm.level}`),
        cell(
          alarm.value === undefined
            ? ''
            : String(
                typeof alarm.value === 'number' ? Math.round(alarm.value * 100) / 100 : alarm.value,
              ),
        ),
        cell(alarm.message),
        cell(new Date(alarm.raisedAt).toLocaleString(lang)),
      );
      const actions = document.createElement('td');
      if (alarm.state === 'active-unacknowledged' || alarm.state === 'returned-unacknowledged') {
        actions.append(actionButton(alarm, 'acknowledge'));
      } else if (alarm.latched && !alarm.conditionActive) {
        actions.append(actionButton(alarm, 'reset'));
      }
      tr.append(actions);
      return tr;
    }),
  );
  $('#count').textContent = String(rows.length);
  $('#empty').hidden = rows.length > 0;
}

function actionButton(alarm: Alarm, action: 'acknowledge' | 'reset'): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = t(action);
  button.onclick = () => {
    button.disabled = true;
    void fetch(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ by: 'console' }),
    }).finally(() => (button.disabled = false));
  };
  return button;
}

$('#lang').onclick = () => {
  lang = lang === 'en' ? 'zh-CN' : 'en';
  localStorage.setItem('vigil.lang', lang);
  applyLanguage();
};

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
new AlarmSocket(wsUrl, {
  onAlarms: alarms => {
    current = alarms;
    renderAlarms();
  },
  onConnection: value => {
    connected = value;
    renderConnection();
  },
  onHistoryKept: kept => {
    $('#history-banner').hidden = kept;
  },
}).connect();

applyLanguage();
