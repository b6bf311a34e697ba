export type WorkerLog = (level: 'info' | 'warn' | 'error', msg: string) => void;
