import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  prettier,
  {
    ignores: [
      '**/dist',
      '**/node_modules',
      '**/tmp',
      '**/.nx',
      'bench/.peer',
      'bench/out',
      'test-output',
    ],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:domain',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:test',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:domain',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:feature',
              onlyDependOnLibsWithTags: [
                'type:data-access',
                'type:domain',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:data-access',
              onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:testing'],
            },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:data-access'],
            },
            {
              sourceTag: 'platform:browser',
              onlyDependOnLibsWithTags: ['platform:browser', 'platform:any'],
            },
            { sourceTag: 'platform:any', onlyDependOnLibsWithTags: ['platform:any'] },
            // Scopes (issue 14; docs/architecture.md §Boundaries): the domain never reaches up
            // into the server, the console only into the shared contracts and the alarm domain.
            { sourceTag: 'scope:rules', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:shared',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:rules'],
            },
            {
              sourceTag: 'scope:alarms',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:rules'],
            },
            {
              sourceTag: 'scope:ingest',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:rules'],
            },
            { sourceTag: 'scope:storage', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:server',
              onlyDependOnLibsWithTags: [
                'scope:server',
                'scope:shared',
                'scope:rules',
                'scope:alarms',
                'scope:ingest',
                'scope:storage',
              ],
            },
            {
              sourceTag: 'scope:console',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:alarms'],
            },
            {
              sourceTag: 'scope:simulator',
              onlyDependOnLibsWithTags: [
                'scope:simulator',
                'scope:shared',
                'scope:rules',
                'scope:server',
              ],
            },
            {
              sourceTag: 'scope:tools',
              onlyDependOnLibsWithTags: [
                'scope:shared',
                'scope:ingest',
                'scope:rules',
                'scope:storage',
                'scope:server',
              ],
            },
            {
              sourceTag: 'scope:bench',
              onlyDependOnLibsWithTags: ['scope:simulator', 'scope:shared'],
            },
            { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'scope:deploy', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name=/^(only|skip)$/]',
          message: 'No focused or skipped tests.',
        },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The platform:any libs run in Node, the browser (console) and tools alike: no Node module, no
    // Node global. Specs run in jest on Node and may use both.
    files: [
      'libs/{contracts,rules,registry,alarms,ingest}/src/**/*.ts',
      'libs/{contracts,rules,registry,alarms,ingest}/src/**/*.tsx',
    ],
    ignores: ['**/*.spec.ts', '**/*.spec.tsx', '**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^node:',
              message: 'A platform:any lib runs in the browser too: no Node modules.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'Buffer',
          message:
            'A platform:any lib runs in the browser too: Uint8Array, TextEncoder/TextDecoder.',
        },
        { name: 'process', message: 'A platform:any lib runs in the browser too.' },
        { name: '__dirname', message: 'A platform:any lib runs in the browser too.' },
        { name: 'require', message: 'A platform:any lib runs in the browser too.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
