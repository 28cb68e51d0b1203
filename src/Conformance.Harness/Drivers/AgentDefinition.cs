using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Conformance.Harness.Drivers;

/// <summary>
/// How to start an agent under test outside the harness: <c>agents/&lt;name&gt;/agent.json</c>. The agent is always
/// driven through its AATH backchannel; the definition only says how to launch it and where that backchannel is.
/// <code>
/// {
///   "name": "credo",
///   "command": "node", "args": ["dist/main.js", "--port", "{port}", "--backchannel-port", "{backchannel_port}"],
///   "env": {"LOG_LEVEL": "info"}, "cwd": ".",
///   "backchannel": "http://127.0.0.1:{backchannel_port}/", "health": "agent/command/status",
///   "startup_timeout_s": 60,
///   "install": {"command": "npm install --ignore-scripts", "marker": "node_modules"},
///   "docker": {"image": "conformance/credo:dev", "dockerfile": "Dockerfile", "build_context": ".", "build": null,
///              "args": ["--port", "{port}", "--backchannel-port", "{backchannel_port}"], "env": {}}
/// }
/// </code>
/// Placeholders in command, args, env values, cwd, backchannel, install and docker: <c>{port}</c> (DIDComm inbound),
/// <c>{backchannel_port}</c>, <c>{repo}</c> (the repository root), <c>{dir}</c> (the definition's folder),
/// <c>{name}</c>, <c>{run_id}</c>; <c>{{</c> and <c>}}</c> stand for literal braces. Relative paths (cwd, install
/// marker, dockerfile, build_context) are relative to the definition's folder.
/// </summary>
public sealed partial class AgentDefinition
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>The folder holding agent.json (absolute).</summary>
    public required string Directory { get; init; }
    /// <summary>The repository root, for <c>{repo}</c>.</summary>
    public required string RepoRoot { get; init; }
    public string? Command { get; init; }
    public IReadOnlyList<string> Args { get; init; } = [];
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public string Cwd { get; init; } = ".";
    public string Backchannel { get; init; } = "http://127.0.0.1:{backchannel_port}/";
    public string Health { get; init; } = "agent/command/status";
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long the agent may take to stop after SIGTERM before the whole tree is killed.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(5);
    public InstallStep? Install { get; init; }
    public DockerSection? Docker { get; init; }
    /// <summary>The agent produces the same bytes for the same case (a seeded reference agent); rarely true.</summary>
    public bool Deterministic { get; init; }

    /// <summary>A command run once (through <c>/bin/sh -c</c>, in <see cref="Cwd"/>) while <see cref="Marker"/> is missing.</summary>
    public sealed record InstallStep(string Command, string Marker, bool WriteMarker, TimeSpan Timeout);

    /// <summary>
    /// How to run the agent as a container: the image, how to build it when it is missing (<see cref="Build"/>: a
    /// shell command; otherwise <c>docker build -f Dockerfile BuildContext</c>), and the container's arguments.
    /// </summary>
    public sealed record DockerSection(
        string Image,
        string? Dockerfile,
        string? BuildContext,
        string? Build,
        IReadOnlyList<string>? Args,
        IReadOnlyDictionary<string, string> Env,
        TimeSpan BuildTimeout);

    public const string FileName = "agent.json";
    public const string DefaultMarker = ".conformance-installed";

    /// <summary>
    /// The definition named <paramref name="nameOrPath"/>: a name under <c>&lt;repo&gt;/agents/</c>, a folder holding
    /// agent.json, or the path of a JSON file.
    /// </summary>
    public static AgentDefinition Find(string repoRoot, string nameOrPath)
    {
        var candidates = new List<string>();
        if (SafeName().IsMatch(nameOrPath)) candidates.Add(Path.Combine(repoRoot, "agents", nameOrPath, FileName));
        candidates.Add(Path.Combine(nameOrPath, FileName));
        candidates.Add(nameOrPath);
        foreach (var c in candidates)
            if (File.Exists(c)) return Load(c, repoRoot);
        var known = System.IO.Directory.Exists(Path.Combine(repoRoot, "agents"))
            ? string.Join(", ", System.IO.Directory.GetDirectories(Path.Combine(repoRoot, "agents"))
                .Where(d => File.Exists(Path.Combine(d, FileName))).Select(Path.GetFileName).Order())
            : "";
        throw new AgentDefinitionException($"no agent definition '{nameOrPath}' (looked for agents/{nameOrPath}/{FileName}; known: {(known.Length == 0 ? "none" : known)})");
    }

    public static AgentDefinition Load(string path, string repoRoot)
    {
        var full = Path.GetFullPath(path);
        string text;
        try { text = File.ReadAllText(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AgentDefinitionException($"cannot read {path}: {e.Message}"); }
        return Parse(text, Path.GetDirectoryName(full)!, Path.GetFullPath(repoRoot), path);
    }

    /// <summary>Parses agent.json text. Every problem is an <see cref="AgentDefinitionException"/> naming the field.</summary>
    public static AgentDefinition Parse(string json, string directory, string repoRoot, string source = FileName)
    {
        JsonObject o;
        try
        {
            o = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }) as JsonObject
                ?? throw new AgentDefinitionException($"{source}: must be a JSON object");
        }
        catch (JsonException e) { throw new AgentDefinitionException($"{source}: not valid JSON: {e.Message}"); }

        string Where(string field) => $"{source}: \"{field}\"";
        var name = Str(o, "name", Where) ?? throw new AgentDefinitionException($"{Where("name")} is required");
        if (!SafeName().IsMatch(name)) throw new AgentDefinitionException($"{Where("name")} must be letters, digits, '.', '_' or '-'");

        InstallStep? install = null;
        switch (o["install"])
        {
            case null: break;
            case JsonValue v when v.TryGetValue(out string? cmd) && cmd.Length > 0:
                install = new InstallStep(cmd, DefaultMarker, true, TimeSpan.FromMinutes(10));
                break;
            case JsonObject io:
                var ic = Str(io, "command", f => Where("install." + f)) ?? throw new AgentDefinitionException($"{Where("install.command")} is required");
                var marker = Str(io, "marker", f => Where("install." + f));
                install = new InstallStep(ic, marker ?? DefaultMarker, marker is null,
                    Seconds(io, "timeout_s", f => Where("install." + f)) ?? TimeSpan.FromMinutes(10));
                break;
            default: throw new AgentDefinitionException($"{Where("install")} must be a command line or {{\"command\", \"marker\"}}");
        }

        DockerSection? docker = null;
        if (o["docker"] is { } dn)
        {
            if (dn is not JsonObject d) throw new AgentDefinitionException($"{Where("docker")} must be an object");
            string DW(string f) => Where("docker." + f);
            docker = new DockerSection(
                Str(d, "image", DW) ?? throw new AgentDefinitionException($"{DW("image")} is required"),
                Str(d, "dockerfile", DW),
                Str(d, "build_context", DW),
                Str(d, "build", DW),
                d.ContainsKey("args") ? StrList(d, "args", DW) : null,
                StrMap(d, "env", DW),
                Seconds(d, "build_timeout_s", DW) ?? TimeSpan.FromMinutes(15));
        }

        var command = Str(o, "command", Where);
        if (command is null && docker is null)
            throw new AgentDefinitionException($"{source}: needs \"command\" (process runtime) or \"docker\" (docker runtime)");

        return new AgentDefinition
        {
            Name = name,
            Description = Str(o, "description", Where),
            Directory = directory,
            RepoRoot = repoRoot,
            Command = command,
            Args = StrList(o, "args", Where),
            Env = StrMap(o, "env", Where),
            Cwd = Str(o, "cwd", Where) ?? ".",
            Backchannel = Str(o, "backchannel", Where) ?? "http://127.0.0.1:{backchannel_port}/",
            Health = Str(o, "health", Where) ?? "agent/command/status",
            StartupTimeout = Seconds(o, "startup_timeout_s", Where) ?? TimeSpan.FromSeconds(60),
            ShutdownGrace = Seconds(o, "shutdown_grace_s", Where) ?? TimeSpan.FromSeconds(5),
            Install = install,
            Docker = docker,
            Deterministic = o["deterministic"] is JsonValue dv && dv.TryGetValue(out bool det) && det,
        };
    }

    // ------------------------------------------------------------------ placeholders

    /// <summary>The values of the placeholders for one launch.</summary>
    public IReadOnlyDictionary<string, string> Variables(int port, int backchannelPort, string runId) => new Dictionary<string, string>
    {
        ["port"] = port.ToString(CultureInfo.InvariantCulture),
        ["backchannel_port"] = backchannelPort.ToString(CultureInfo.InvariantCulture),
        ["repo"] = RepoRoot,
        ["dir"] = Directory,
        ["name"] = Name,
        ["run_id"] = runId,
    };

    /// <summary>Replaces <c>{placeholder}</c>s; an unknown one is an error naming <paramref name="where"/>.</summary>
    public static string Expand(string template, IReadOnlyDictionary<string, string> vars, string where)
    {
        var sb = new StringBuilder(template.Length);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < template.Length && template[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            var end = template.IndexOf('}', i + 1);
            if (end < 0) throw new AgentDefinitionException($"{where}: unclosed '{{' (write '{{{{' for a literal brace)");
            var key = template[(i + 1)..end];
            if (!vars.TryGetValue(key, out var value))
                throw new AgentDefinitionException($"{where}: unknown placeholder {{{key}}} (known: {string.Join(", ", vars.Keys.Select(k => "{" + k + "}"))})");
            sb.Append(value);
            i = end;
        }
        return sb.ToString();
    }

    /// <summary>A path from the definition, placeholders expanded, made absolute relative to the definition's folder.</summary>
    public string ResolvePath(string template, IReadOnlyDictionary<string, string> vars, string where) =>
        Path.GetFullPath(Path.Combine(Directory, Expand(template, vars, where)));

    // ------------------------------------------------------------------ JSON helpers

    private static string? Str(JsonObject o, string key, Func<string, string> where) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new AgentDefinitionException($"{where(key)} must be a string"),
    };

    private static List<string> StrList(JsonObject o, string key, Func<string, string> where) => o[key] switch
    {
        null => [],
        JsonArray a => a.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s
            : n is JsonValue nv && nv.TryGetValue(out double d) ? d.ToString(CultureInfo.InvariantCulture)
            : throw new AgentDefinitionException($"{where(key)} must hold strings")).ToList(),
        _ => throw new AgentDefinitionException($"{where(key)} must be an array of strings"),
    };

    private static Dictionary<string, string> StrMap(JsonObject o, string key, Func<string, string> where)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (o[key])
        {
            case null: return map;
            case JsonObject m:
                foreach (var (k, v) in m)
                    map[k] = v switch
                    {
                        JsonValue sv when sv.TryGetValue(out string? s) => s,
                        JsonValue nv when nv.TryGetValue(out double d) => d.ToString(CultureInfo.InvariantCulture),
                        JsonValue bv when bv.TryGetValue(out bool b) => b ? "true" : "false",
                        _ => throw new AgentDefinitionException($"{where(key + "." + k)} must be a string"),
                    };
                return map;
            default: throw new AgentDefinitionException($"{where(key)} must be an object of strings");
        }
    }

    private static TimeSpan? Seconds(JsonObject o, string key, Func<string, string> where) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out double d) && d > 0 && d <= 86400 => TimeSpan.FromSeconds(d),
        _ => throw new AgentDefinitionException($"{where(key)} must be a number of seconds (0 < s <= 86400)"),
    };

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SafeName();
}

/// <summary>A missing or malformed agent definition (one line, names the file and field).</summary>
public sealed class AgentDefinitionException(string message) : Exception(message);

/// <summary>An agent could not be started (exited early, never answered, image missing…): one line plus the log path.</summary>
public sealed class AgentStartException(string message, string? logPath = null)
    : Exception(logPath is null ? message : $"{message} (log: {logPath})")
{
    public string? LogPath { get; } = logPath;
}

/// <summary>A driver that keeps a log of the agent's own output (for the report).</summary>
public interface IAgentLogSource
{
    /// <summary>The file holding the agent's stdout/stderr (or container logs); null before start.</summary>
    string? LogPath { get; }
}
