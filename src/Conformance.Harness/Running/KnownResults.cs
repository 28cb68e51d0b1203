using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Running;

/// <summary>
/// The checked-in list of cases that do not PASS for a given agent version, with why (the RFC requirement and the
/// observed message) — like AATH's known-good results, but with evidence. A run is compared against it: a new
/// non-PASS, a fixed case or a changed grade is a visible change, not noise. Cases not listed are expected to PASS.
/// File: known-results/&lt;agent&gt;-&lt;version&gt;.json.
/// </summary>
public sealed class KnownResults
{
    public string Agent { get; init; } = "";
    public string Version { get; init; } = "";
    /// <summary>Case id → expected grade and evidence.</summary>
    public SortedDictionary<string, KnownCase> Cases { get; init; } = new(StringComparer.Ordinal);

    public sealed record KnownCase(string Grade, string Requirement, string? Expected, string? Observed, string? Why);

    public sealed record Change(string CaseId, string Known, string Now, string Detail)
    {
        public override string ToString() => $"{CaseId}: known {Known}, now {Now} — {Detail}";
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static KnownResults Load(string path)
    {
        var node = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
        var k = new KnownResults { Agent = node["agent"]?.ToString() ?? "", Version = node["version"]?.ToString() ?? "" };
        foreach (var (id, v) in node["cases"] as JsonObject ?? [])
        {
            if (v is not JsonObject o) continue;
            k.Cases[id] = new KnownCase(o["grade"]?.ToString() ?? "PASS", o["requirement"]?.ToString() ?? "", o["expected"]?.ToString(),
                o["observed"]?.ToString(), o["why"]?.ToString());
        }
        return k;
    }

    /// <summary>
    /// Builds the known-results document of a run: every case that did not PASS, with its evidence. Entries of
    /// <paramref name="previous"/> for cases this run did not run (a <c>--suite</c> subset) are kept as they were; the
    /// "why" written by hand for a case is kept while the case still does not PASS.
    /// </summary>
    public static KnownResults FromRun(string agent, string version, IEnumerable<CaseResult> results, KnownResults? previous = null)
    {
        var k = new KnownResults { Agent = agent, Version = version };
        var ran = results.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var (id, c) in previous?.Cases ?? [])
            if (!ran.Contains(id)) k.Cases[id] = c;
        foreach (var r in results.Where(r => r.Grade != Grade.PASS))
        {
            var why = previous?.Cases.GetValueOrDefault(r.Id)?.Why;
            k.Cases[r.Id] = new KnownCase(r.Grade.ToString(), r.Requirement, Trim(r.Expected), Trim(r.Observed ?? r.Reason), why);
        }
        return k;
    }

    public void Save(string path)
    {
        var cases = new JsonObject();
        foreach (var (id, c) in Cases)
        {
            var o = new JsonObject { ["grade"] = c.Grade, ["requirement"] = c.Requirement };
            if (c.Expected != null) o["expected"] = c.Expected;
            if (c.Observed != null) o["observed"] = c.Observed;
            if (c.Why != null) o["why"] = c.Why;
            cases[id] = o;
        }
        var doc = new JsonObject
        {
            ["agent"] = Agent,
            ["version"] = Version,
            ["note"] = "Cases of this agent version that do not PASS, with the RFC requirement and the observed evidence. Cases not listed are expected to PASS. Regenerate with `conformance run --agent <name> --write-known <this file>` and review the diff.",
            ["cases"] = cases,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, doc.ToJsonString(Json) + "\n");
    }

    /// <summary>What differs between this list and a run (only for the cases that ran).</summary>
    public IReadOnlyList<Change> Compare(IEnumerable<CaseResult> results)
    {
        var changes = new List<Change>();
        foreach (var r in results)
        {
            var known = Cases.GetValueOrDefault(r.Id)?.Grade ?? "PASS";
            var now = r.Grade.ToString();
            if (known == now) continue;
            var detail = now == "PASS" ? "fixed (remove it from the known results)"
                : known == "PASS" ? $"new {now}: {Trim(r.Observed ?? r.Reason, 200)}"
                : $"grade changed: {Trim(r.Observed ?? r.Reason, 200)}";
            changes.Add(new Change(r.Id, known, now, detail));
        }
        return changes;
    }

    private static string? Trim(string? s, int max = 600) => s == null ? null : s.Length <= max ? s : s[..max] + "…";
}
