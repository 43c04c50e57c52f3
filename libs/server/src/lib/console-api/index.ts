import type { Provider, Type } from '@nestjs/common';

/**
 * Read-side endpoints the console needs beyond devices and alarms (history, trends, risk map,
 * device health, site plan). Registered by VigilModule with the gateway.
 */
export const CONSOLE_API_CONTROLLERS: Type[] = [];
export const CONSOLE_API_PROVIDERS: Provider[] = [];
