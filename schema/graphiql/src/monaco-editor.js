// Stands in for the bare `monaco-editor` import (see build.mjs): the editor core plus JSON.
import 'monaco-editor/esm/vs/language/json/monaco.contribution.js';

export * from 'monaco-editor/esm/vs/editor/edcore.main.js';
