import type { User } from './auth.service';

/** Demo mode only: documented in docs/interfaces.md, never available outside demo mode. */
export const DEMO_PASSWORD = 'vigil-demo';
export const DEMO_USERS: readonly User[] = [
  { id: 'zhang', name: '张伟 Zhang Wei', role: 'operator', scope: 'ent-huaxin' },
  { id: 'li', name: '李娜 Li Na', role: 'operator', scope: 'ent-huaxin' },
  { id: 'wang', name: '王强 Wang Qiang', role: 'supervisor', scope: 'park-chem' },
  { id: 'chen', name: '陈静 Chen Jing', role: 'supervisor', scope: 'city-demo' },
  { id: 'admin', name: 'Administrator', role: 'admin', scope: 'city-demo' },
];
