// The Redis store loads its Lua scripts at run time: copy them beside the compiled JavaScript.
import { cpSync } from 'node:fs';

cpSync('src/store/redis/scripts', 'dist/store/redis/scripts', { recursive: true });
