#!/usr/bin/env node
import 'reflect-metadata';
import { runCli } from './cli/program.js';

/** `aol` / `node dist/cli.js`: see `aol --help`. */
process.exitCode = await runCli(process.argv);
