export * from './lib/config/vigil-config';
export * from './lib/bootstrap';
export * from './lib/run-service';
export * from './lib/bus/pipeline-bus';
export { hashPassword, passwordProblems, verifyPassword } from './lib/auth/passwords';
