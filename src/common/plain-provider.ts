import type { FactoryProvider, InjectionToken } from '@nestjs/common';

/**
 * Provide a class that carries no NestJS decorators, built from the given
 * tokens. The services the CLI shares with the API are kept free of NestJS
 * (loading it costs every `aol` command ~0.3 s of start-up), and the API's
 * modules provide them through this.
 */
export function plainProvider<T, A extends unknown[]>(
  cls: new (...args: A) => T,
  ...inject: InjectionToken[]
): FactoryProvider<T> {
  return { provide: cls, useFactory: (...args: unknown[]) => new cls(...(args as A)), inject };
}
