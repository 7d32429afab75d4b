/** Every API route of the GUI's server, one line per area (each area's module exports `routes`). */
import type { Route } from '../route.ts';
import { routes as compare } from './compare.ts';
import { routes as findings } from './findings.ts';
import { routes as live } from './live.ts';
import { routes as matrix } from './matrix.ts';
import { routes as model } from './model.ts';
import { routes as runs } from './runs.ts';
import { routes as run } from './run.ts';
import { routes as sets } from './sets.ts';

/** All routes, in the order they are matched. */
export const ROUTES: readonly Route[] = [...sets, ...matrix, ...run, ...live, ...runs, ...model, ...compare, ...findings];
