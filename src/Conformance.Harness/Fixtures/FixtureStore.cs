// Golden-file verification of case transcripts (DESIGN.md "One case, as data flows", step 4: "The scrubbed
// transcript is compared with the fixtures"). Layout: fixtures/<agent>/<case-id>/NN-<direction>-<message>.json.
//
//   verify  a file that differs from its baseline is written beside it as <name>.received.json and the outcome is
//           "changed" with a unified line diff; a case without any baseline is "new" (all files written as
//           .received.json); identical is "match". Stale .received.json files from earlier runs are removed first.
//   accept  (./run.sh fixtures --accept) the received transcript becomes the baseline: differing and new files are
//           written, baselines of messages no longer produced are deleted, no .received.json remains; "accepted"
//           (or "match" if nothing changed).
// Nothing is written that looks like a private key: PrivateKeyGuard throws PrivateKeyException first.
using System.Text;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Fixtures;

public enum FixtureOutcome { Match, New, Changed, Accepted }

/// <summary>The result of verifying one case's transcript against its fixtures.</summary>
/// <param name="Diff">For Changed and New: what differs (unified line diff / list of new files); null for Match.</param>
/// <param name="Written">Files written (baselines when accepting, .received.json otherwise), full paths.</param>
public sealed record FixtureVerification(string CaseId, FixtureOutcome Outcome, string? Diff, string Directory, IReadOnlyList<string> Written)
{
    /// <summary>"match", "new", "changed" or "accepted" (what <see cref="CaseResult.FixtureStatus"/> holds).</summary>
    public string Status => Outcome.ToString().ToLowerInvariant();
}

public sealed class FixtureStore
{
    public FixtureStore(string root, ScrubPolicy? policy = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = root;
        Policy = policy ?? ScrubPolicy.Default;
    }

    /// <summary>The fixtures folder (the repository's <c>fixtures/</c>).</summary>
    public string Root { get; }

    public ScrubPolicy Policy { get; }

    /// <summary>How many differing lines a diff shows per file, and how many files it shows in full.</summary>
    public int DiffLinesPerFile { get; init; } = 40;
    public int DiffFiles { get; init; } = 3;

    public string CaseDirectory(string agent, string caseId) =>
        Path.Combine(Root, GoldenFile.SafeName(agent), GoldenFile.SafeName(caseId));

    /// <summary>
    /// Scrubs and renders a transcript into golden files. Throws <see cref="PrivateKeyException"/> if a message (raw
    /// or scrubbed) holds something that looks like a private key.
    /// </summary>
    public List<GoldenFile> Render(IReadOnlyList<FixtureMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var names = GoldenFile.Render(messages).Select(f => f.Name).ToList();
        for (var i = 0; i < messages.Count; i++)
            PrivateKeyGuard.EnsureNone(messages[i].Plaintext, "fixture " + names[i]);
        var scrubbed = Scrubber.Scrub(messages.Select(m => m.Plaintext).ToList(), Policy);
        var files = GoldenFile.Render(messages.Zip(scrubbed, (m, s) => m with { Plaintext = s }).ToList());
        foreach (var (f, s) in files.Zip(scrubbed)) PrivateKeyGuard.EnsureNone(s, "fixture " + f.Name);
        return files;
    }

    /// <summary>Verifies a case result's wire log (the messages with a plaintext) against its fixtures.</summary>
    public FixtureVerification Verify(CaseResult result, bool accept = false) =>
        Verify(result.Agent, result.Id, FixtureMessage.FromWire(result.Wire), accept);

    public FixtureVerification Verify(string agent, string caseId, IReadOnlyList<FixtureMessage> messages, bool accept = false)
    {
        var dir = CaseDirectory(agent, caseId);
        var received = Render(messages);

        var baseline = new Dictionary<string, string>(StringComparer.Ordinal);
        if (System.IO.Directory.Exists(dir))
        {
            foreach (var path in System.IO.Directory.GetFiles(dir, "*" + GoldenFile.ReceivedExtension))
                File.Delete(path);
            foreach (var path in System.IO.Directory.GetFiles(dir, "*" + GoldenFile.Extension).Order(StringComparer.Ordinal))
                baseline[Path.GetFileName(path)] = File.ReadAllText(path, Encoding.UTF8).Replace("\r\n", "\n");
        }

        var differing = received.Where(f => !baseline.TryGetValue(f.Name, out var b) || b != f.Text).ToList();
        var receivedNames = received.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var removed = baseline.Keys.Where(n => !receivedNames.Contains(n)).ToList();
        if (differing.Count == 0 && removed.Count == 0)
            return new FixtureVerification(caseId, FixtureOutcome.Match, null, dir, []);

        var written = new List<string>();
        System.IO.Directory.CreateDirectory(dir);
        if (accept)
        {
            foreach (var f in differing) written.Add(Write(dir, f.Name, f));
            foreach (var n in removed) File.Delete(Path.Combine(dir, n));
            return new FixtureVerification(caseId, FixtureOutcome.Accepted, null, dir, written);
        }

        foreach (var f in differing) written.Add(Write(dir, f.ReceivedName, f));
        if (baseline.Count == 0)
        {
            var list = string.Join("\n", received.Select(f => "  " + f.ReceivedName));
            return new FixtureVerification(caseId, FixtureOutcome.New,
                $"new fixture {caseId}: no baseline in {dir}; {received.Count} message(s) written as .received.json:\n{list}\n" +
                "accept with ./run.sh fixtures --accept\n", dir, written);
        }
        return new FixtureVerification(caseId, FixtureOutcome.Changed, DiffText(caseId, dir, baseline, received), dir, written);
    }

    private static string Write(string dir, string name, GoldenFile f)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, f.Bytes);
        return path;
    }

    // Pairs files by their NN position, so a message that changed its name shows as one diff, not a removal and an addition.
    private string DiffText(string caseId, string dir, Dictionary<string, string> baseline, List<GoldenFile> received)
    {
        static string Pos(string name) => name.Split('-', 2)[0];
        var positions = baseline.Keys.Select(Pos).Concat(received.Select(f => Pos(f.Name))).Distinct().Order(StringComparer.Ordinal);
        var sb = new StringBuilder($"fixtures of {caseId} differ from the baseline in {dir}:\n");
        int shown = 0, more = 0;
        var moreNames = new List<string>();
        foreach (var pos in positions)
        {
            var b = baseline.Where(kv => Pos(kv.Key) == pos).Select(kv => (Name: kv.Key, Text: kv.Value)).FirstOrDefault();
            var r = received.FirstOrDefault(f => Pos(f.Name) == pos);
            if (b.Name != null && r != null && b.Name == r.Name && b.Text == r.Text) continue;
            if (shown >= DiffFiles)
            {
                more++;
                moreNames.Add(r?.Name ?? b.Name!);
                continue;
            }
            shown++;
            var diff = LineDiff.Unified(b.Text ?? "", r?.Text ?? "",
                b.Name == null ? "/dev/null (no baseline)" : b.Name + " (baseline)",
                r == null ? "/dev/null (message no longer sent)" : r.ReceivedName + " (received)",
                maxLines: DiffLinesPerFile);
            sb.Append(diff);
        }
        if (more > 0) sb.Append($"… and {more} more file(s) differ: {string.Join(", ", moreNames)}\n");
        sb.Append("accept with ./run.sh fixtures --accept\n");
        return sb.ToString();
    }
}
