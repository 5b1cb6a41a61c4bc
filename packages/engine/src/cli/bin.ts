#!/usr/bin/env node
import { runCli } from './main.js';

// Exit explicitly: a command is done when runCli resolves, whatever timers libraries left behind.
process.exit(await runCli(process.argv));
