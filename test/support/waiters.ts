export { Arrivals } from '../../src/dev/arrivals.js';
