export * from './lib/config/vigil-config';
export * from './lib/bootstrap';
export * from './lib/run-service';
export * from './lib/bus/pipeline-bus';
export * from './lib/bus/jetstream/backbone';
export * from './lib/bus/jetstream/subjects';
export * from './lib/bus/jetstream/commands';
export { hashPassword, passwordProblems, verifyPassword } from './lib/auth/passwords';
export { runCredentialsCli, CREDENTIALS_USAGE } from './lib/broker/credentials-cli';
export { EmbeddedBroker } from './lib/broker/embedded-broker';
export {
  mosquittoAcl,
  mosquittoPasswordFile,
  MOSQUITTO_SERVICE_ACL,
} from './lib/broker/mosquitto-config';
export {
  newCredential,
  readCredentialsFile,
  writeCredentialsFile,
  type CredentialsFile,
  type DeviceCredential,
} from './lib/broker/device-credentials';
export {
  NotifyConfigError,
  alertmanagerConfig,
  loadNotifyConfig,
  parseNotifyConfig,
} from './lib/notify';
export { runNotifyCli } from './lib/notify/notify-cli';
export { vigilMetricNames } from './lib/metrics/metric-names';
export { openBackbone, type Backbone } from './lib/bus/jetstream/backbone';
export { partitionOf } from './lib/bus/jetstream/subjects';
