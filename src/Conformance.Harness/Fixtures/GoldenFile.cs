// One golden file: one message of a case transcript, fixtures/<agent>/<case-id>/NN-<direction>-<message>.json.
// The bytes are deterministic: the message's own member order (never sorted: the order an agent writes is part of
// what the fixture shows), 2-space indentation, LF line ends, a trailing newline, UTF-8 without BOM, and no escaping
// of '<', '>' or non-ASCII text (so placeholders read <id-1>, not \u003Cid-1\u003E).
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Fixtures;

/// <summary>Who sent a message, seen from the agent under test (AUT).</summary>
public enum FixtureDirection { PeerToAut, AutToPeer }

/// <summary>One message of a transcript as it goes into a fixture.</summary>
public sealed record FixtureMessage(FixtureDirection Direction, JsonObject Plaintext)
{
    /// <summary>
    /// The messages of a case's wire log that have a plaintext, in order. <see cref="WireRecord.Direction"/> reads
    /// "Bob -> aut" (the reference peer sent it) or "aut -> Bob" (the agent under test sent it).
    /// </summary>
    public static List<FixtureMessage> FromWire(IEnumerable<WireRecord> wire) =>
        wire.Where(w => w.Plaintext != null)
            .OrderBy(w => w.Seq)
            .Select(w => new FixtureMessage(
                w.Direction.Replace(" ", "").StartsWith("aut->", StringComparison.OrdinalIgnoreCase) ? FixtureDirection.AutToPeer : FixtureDirection.PeerToAut,
                w.Plaintext!))
            .ToList();
}

/// <summary>A golden file: its name inside the case folder and its exact text.</summary>
public sealed record GoldenFile(string Name, string Text)
{
    public const string Extension = ".json";
    public const string ReceivedExtension = ".received.json";

    public byte[] Bytes => Utf8.GetBytes(Text);

    /// <summary>The name a .received copy of this file gets: <c>02-aut-to-peer-response.received.json</c>.</summary>
    public string ReceivedName => ReceivedNameOf(Name);

    public static string ReceivedNameOf(string name) => name[..^Extension.Length] + ReceivedExtension;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Pretty JSON with stable bytes: 2-space indent, LF, trailing newline, members in their own order.</summary>
    public static string Serialize(JsonNode node) => node.ToJsonString(Options) + "\n";

    /// <summary>The golden files of a transcript (already scrubbed): <c>01-peer-to-aut-invitation.json</c>, …</summary>
    public static List<GoldenFile> Render(IReadOnlyList<FixtureMessage> messages)
    {
        var width = Math.Max(2, messages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        return messages.Select((m, i) => new GoldenFile(
            $"{(i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0')}-{DirectionName(m.Direction)}-{MessageName(m.Plaintext)}{Extension}",
            Serialize(m.Plaintext))).ToList();
    }

    public static string DirectionName(FixtureDirection d) => d == FixtureDirection.AutToPeer ? "aut-to-peer" : "peer-to-aut";

    /// <summary>
    /// The message name from @type (DIDComm v1) or type (v2): the last path segment, e.g.
    /// "https://didcomm.org/didexchange/1.1/request" → "request"; "untyped" without one.
    /// </summary>
    public static string MessageName(JsonObject plaintext)
    {
        var type = (plaintext["@type"] ?? plaintext["type"]) is JsonValue v && v.TryGetValue<string>(out var t) ? t : null;
        if (string.IsNullOrWhiteSpace(type)) return "untyped";
        var last = type.TrimEnd('/');
        last = last[(last.LastIndexOfAny(['/', ';']) + 1)..];
        return SafeName(last.Length == 0 ? "untyped" : last);
    }

    /// <summary>A file-system-safe name: letters, digits, '.', '_' and '-' kept, anything else '-'; never empty, never "." or "..".</summary>
    public static string SafeName(string s)
    {
        var chars = s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '-').ToArray();
        var r = new string(chars).Trim('.');
        return r.Length == 0 ? "_" : r.Length > 120 ? r[..120] : r;
    }
}
