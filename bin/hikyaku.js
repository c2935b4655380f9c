#!/usr/bin/env node
// The `hikyaku` command: runs the compiled entry point (built by `npm install`).
import '../dist/src/main.js';
