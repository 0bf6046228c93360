// chopsticks logs through pino at info level by default; tests want only its errors.
process.env.LOG_LEVEL ??= 'error';
