import { UsageError } from '../errors.ts';
import type { Command, Option } from 'commander';
import { loadPolicyFile } from '../config/load.ts';
import { bundledPolicyPath } from '../package-info.ts';
import { RULES_BY_ID } from '../rules/registry.ts';
import { valuesOf } from './options.ts';
import { cliIo } from './io.ts';

/** The environments of the bundled policy, offered after --environment. */
function bundledEnvironments(): string[] {
  try {
    return loadPolicyFile(bundledPolicyPath(), RULES_BY_ID).environments.map((env) => env.name);
  } catch {
    return [];
  }
}

// Namespaces come from the cluster kubectl points at, as kubectl's own completion does.
const BASH_NAMESPACES =
  "$(kubectl get namespaces -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)";
const FISH_NAMESPACES =
  "(kubectl get namespaces -o jsonpath='{.items[*].metadata.name}' 2>/dev/null | string split ' ')";

/** What completion needs of the command tree: each command's path, options and subcommands. */
interface Node {
  readonly path: string[];
  readonly description: string;
  readonly options: readonly Option[];
  readonly children: readonly Node[];
}

function nodeOf(command: Command, parent: string[]): Node {
  const path = [...parent, command.name()];
  return {
    path,
    description: command.description(),
    options: command.options,
    children: command.commands.map((sub) => nodeOf(sub, path)),
  };
}

const flagsOf = (node: Node): string[] =>
  node.options.flatMap((option) =>
    [option.short, option.long].filter((flag): flag is string => flag !== undefined),
  );
// Flags whose value is a file or folder: the shell completes paths after them.
const PATH_FLAGS = [
  '-f',
  '--filename',
  '--config',
  '--exceptions',
  '--kubeconfig',
  '--certs',
  '--out',
  '--flows',
];

function allNodes(node: Node): Node[] {
  return [node, ...node.children.flatMap(allNodes)];
}

/** Each command's options that take one of a list of values (--output, --log-level), with the list. */
const valueOptions = (node: Node): { flags: string[]; values: readonly string[] }[] =>
  node.options.flatMap((option) => {
    const values = valuesOf(option);
    const flags = [option.short, option.long].filter((flag): flag is string => flag !== undefined);
    return values === undefined ? [] : [{ flags, values }];
  });

function bash(root: Node, environments: readonly string[]): string {
  const valueCases = allNodes(root)
    .flatMap((node) =>
      valueOptions(node).map(
        ({ flags, values }) =>
          `    ${flags.map((flag) => `"${node.path.slice(1).join(' ')}/${flag}"`).join('|')}) words="${values.join(' ')}" ;;`,
      ),
    )
    .join('\n');
  const cases = allNodes(root)
    .map((node) => {
      const words = [
        ...node.children.map((child) => child.path.at(-1) ?? ''),
        ...flagsOf(node),
      ].join(' ');
      return `    "${node.path.slice(1).join(' ')}") words="${words}" ;;`;
    })
    .join('\n');
  const known = allNodes(root)
    .map((node) => `|${node.path.slice(1).join(' ')}|`)
    .join('');
  return `# netguard bash completion: source it, or save it as /etc/bash_completion.d/netguard
_netguard() {
  local cur prev path words i w next
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${PATH_FLAGS.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    -n|--namespace) COMPREPLY=($(compgen -W "${BASH_NAMESPACES}" -- "$cur")); return 0 ;;
    --environment) COMPREPLY=($(compgen -W "${environments.join(' ')}" -- "$cur")); return 0 ;;
  esac
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    next="\${path:+$path }$w"
    [[ "${known}" == *"|$next|"* ]] && path="$next"
  done
  words=""
  case "$path/$prev" in
${valueCases}
  esac
  if [[ -n "$words" ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); return 0; fi
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _netguard netguard
`;
}

/** zsh runs the bash function through bashcompinit: one generator, the same answers. */
function zsh(root: Node, environments: readonly string[]): string {
  return `#compdef netguard
# netguard zsh completion: eval "$(netguard completion zsh)" in ~/.zshrc
autoload -U +X bashcompinit && bashcompinit
${bash(root, environments)}`;
}

const fishQuote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(root: Node, environments: readonly string[]): string {
  const lines = [
    '# netguard fish completion: netguard completion fish > ~/.config/fish/completions/netguard.fish',
    'complete -c netguard -f',
  ];
  for (const node of allNodes(root)) {
    const depth = node.path.length - 1;
    const seen = node.path.slice(1);
    const condition =
      depth === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${seen.at(-1) ?? ''}`;
    for (const child of node.children) {
      lines.push(
        `complete -c netguard -n ${fishQuote(condition)} -a ${child.path.at(-1) ?? ''} -d ${fishQuote(child.description.slice(0, 80))}`,
      );
    }
    if (depth === 0) continue;
    for (const option of node.options) {
      const short = option.short === undefined ? '' : ` -s ${option.short.slice(1)}`;
      const long = option.long === undefined ? '' : ` -l ${option.long.slice(2)}`;
      const takesPath = PATH_FLAGS.some((flag) => flag === option.long || flag === option.short);
      const values = valuesOf(option);
      const value =
        values !== undefined
          ? ` -x -a ${fishQuote(values.join(' '))}`
          : option.long === '--namespace'
            ? ` -x -a ${fishQuote(FISH_NAMESPACES)}`
            : option.long === '--environment'
              ? ` -x -a ${fishQuote(environments.join(' '))}`
              : takesPath
                ? ' -r -F'
                : option.required || option.optional
                  ? ' -x'
                  : '';
      lines.push(
        `complete -c netguard -n ${fishQuote(condition)}${short}${long}${value} -d ${fishQuote(option.description.slice(0, 80))}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const SHELLS = { bash, zsh, fish } as const;

/** The whole command tree (buildProgram loads every command for `completion`). */
const fullTree = (program: Command): Node => nodeOf(program.parent ?? program, []);

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action((shell: string) => {
      if (!Object.hasOwn(SHELLS, shell))
        throw new UsageError(`completion: unknown shell "${shell}" (bash, zsh or fish)`);
      const render = SHELLS[shell as keyof typeof SHELLS];
      cliIo().stdout(render(fullTree(program), bundledEnvironments()));
    });
}
