// Private keys must never reach a fixture or a report. Nothing on the DIDComm wire carries one legitimately, so a
// value that looks like one is either a bug of the agent under test (worth its own FAIL, not a golden file) or of the
// harness. Fixtures refuse to be written (EnsureNone throws); reports, which must still show what happened, redact
// the value (Redact / RedactText) and say so.
//
// "Looks like a private key": a member whose name says secret (secret, private, priv…, seed, sk, signing_key, and the
// JWK private members "d" and "k") holding key-sized material: base58 or base64/base64url of 32, 48, 64 or 66 bytes,
// hex of 32 or 64 bytes, a multibase 'z' value of a multicodec private key, an array of 32 or 64 byte values, or for
// seeds any 32-character string (ACA-Py and AATH seeds are 32 ASCII characters). base64 values that decode to JSON
// (attachments, ~sig sig_data, JWS parts) are searched too. Public values under such names (e.g. a field named
// "private" holding a boolean or a label) are not key-sized and pass.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Conformance.Wire.Encoding;

namespace Conformance.Harness.Fixtures;

/// <summary>A fixture or report would have contained private key material. The message names the place, never the value.</summary>
public sealed class PrivateKeyException(string message) : Exception(message);

public static partial class PrivateKeyGuard
{
    public const string Redacted = "<redacted: looks like a private key>";

    /// <summary>Where a suspicious value sits: a JSON path (with "(base64)" where it was found inside a decoded value).</summary>
    public sealed record Finding(string Path, string Field);

    /// <summary>All values under <paramref name="node"/> that look like private keys.</summary>
    public static IReadOnlyList<Finding> Find(JsonNode? node)
    {
        var list = new List<Finding>();
        Visit(node, "$", null, list, redact: false);
        return list;
    }

    /// <summary>Throws <see cref="PrivateKeyException"/> if <paramref name="node"/> holds something that looks like a private key.</summary>
    public static void EnsureNone(JsonNode? node, string what)
    {
        var found = Find(node);
        if (found.Count > 0)
            throw new PrivateKeyException(
                $"refusing to write {what}: {found[0].Path} (field '{found[0].Field}') looks like a private key" +
                (found.Count > 1 ? $" (and {found.Count - 1} more)" : ""));
    }

    /// <summary>Replaces, in place, every value that looks like a private key with <see cref="Redacted"/>; returns how many.</summary>
    public static int Redact(JsonNode? node)
    {
        var list = new List<Finding>();
        Visit(node, "$", null, list, redact: true);
        return list.Count;
    }

    /// <summary>A named value (a setting, a header): <see cref="Redacted"/> if it looks like a private key, else the value with <see cref="RedactText"/> applied.</summary>
    public static string RedactValue(string name, string? value) =>
        value != null && IsSecretName(name) && IsKeySized(value, name) ? Redacted : RedactText(value);

    /// <summary>Redacts <c>"secret_name": "keylike"</c> and <c>secret_name=keylike</c> pairs in free text (expected/observed, notes, envelopes).</summary>
    public static string RedactText(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        return TextPair().Replace(text, m =>
            IsSecretName(m.Groups["name"].Value) && IsKeySized(m.Groups["value"].Value, m.Groups["name"].Value)
                ? m.Value[..(m.Groups["value"].Index - m.Index)] + Redacted + m.Value[(m.Groups["value"].Index + m.Groups["value"].Length - m.Index)..]
                : m.Value);
    }

    [GeneratedRegex(@"""(?<name>[A-Za-z0-9_@~.-]{1,48})""\s*:\s*""(?<value>[A-Za-z0-9+/=_-]{16,200})""|\b(?<name>[A-Za-z_]*(?:secret|private|seed)[A-Za-z_]*)\s*[=:]\s*(?<value>[A-Za-z0-9+/=_-]{32,200})", RegexOptions.IgnoreCase)]
    private static partial Regex TextPair();

    /// <summary>True for member names that denote secret key material.</summary>
    public static bool IsSecretName(string name)
    {
        var n = new string(name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
        return n is "d" or "k" or "sk" or "priv" or "signingkey" or "secretkey" or "privatekey"
               || n.Contains("secret") || n.Contains("private") || n.StartsWith("priv") || n.Contains("seed");
    }

    /// <summary>True for strings of key size (see the file header).</summary>
    public static bool IsKeySized(string value, string name)
    {
        var s = value.Trim();
        if (s.Length < 16) return false;
        var lower = name.ToLowerInvariant();
        if (lower.Contains("seed") && s.Length == 32) return true;
        if ((s.Length == 64 || s.Length == 128) && s.All(Uri.IsHexDigit)) return true;
        if (Base58.TryDecode(s, out var b58) && b58.Length is 32 or 64) return true;
        if (s[0] == 'z' && Base58.TryDecode(s[1..], out var mb) && mb.Length is 34 or 66) return true;
        if (Base64Url.TryDecode(s, out var b64) && b64.Length is 32 or 48 or 64 or 66) return true;
        return false;
    }

    private static void Visit(JsonNode? node, string path, string? name, List<Finding> found, bool redact)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (k, v) in obj.ToList())
                {
                    var p = path + "." + k;
                    if (IsSecretName(k) && LooksLikeKey(v, k))
                    {
                        found.Add(new Finding(p, k));
                        if (redact) obj[k] = Redacted;
                        continue;
                    }
                    Visit(v, p, k, found, redact);
                }
                break;
            case JsonArray arr:
                for (var i = 0; i < arr.Count; i++) Visit(arr[i], $"{path}[{i}]", name, found, redact);
                break;
            case JsonValue val when val.GetValueKind() == JsonValueKind.String:
                var s = val.GetValue<string>();
                if (s.Length < 16) break;
                if (Embedded(s) is { } inner)
                {
                    var before = found.Count;
                    Visit(inner, path + "(base64)", name, found, redact: false);
                    if (redact && found.Count > before && val.Parent is { } parent)
                        Replace(parent, val, Redacted);
                }
                else
                {
                    // JSON or "name=value" text inside a string (an envelope, a logged message, an observation).
                    var redacted = RedactText(s);
                    if (!ReferenceEquals(redacted, s) && redacted != s)
                    {
                        found.Add(new Finding(path, name ?? ""));
                        if (redact && val.Parent is { } parent) Replace(parent, val, redacted);
                    }
                }
                break;
        }
    }

    private static void Replace(JsonNode parent, JsonNode child, string value)
    {
        if (parent is JsonObject o) o[child.GetPropertyName()] = value;
        else if (parent is JsonArray a) a[child.GetElementIndex()] = value;
    }

    private static bool LooksLikeKey(JsonNode? v, string name) => v switch
    {
        JsonValue s when s.GetValueKind() == JsonValueKind.String => IsKeySized(s.GetValue<string>(), name),
        JsonArray a => a.Count is 32 or 64 && a.All(x => x is JsonValue n && n.GetValueKind() == JsonValueKind.Number),
        _ => false,
    };

    // A base64 value holding JSON (an attachment, ~sig sig_data after its 8-byte timestamp, JWS parts).
    private static JsonNode? Embedded(string s)
    {
        if (s.Count(c => c == '.') == 2)
        {
            var parts = s.Split('.');
            var arr = new JsonArray();
            foreach (var part in parts)
                if (Base64Url.TryDecode(part, out var pb) && Parse(pb) is { } pj) arr.Add(pj);
            return arr.Count > 0 ? arr : null;
        }
        if (!Base64Url.TryDecode(s, out var b)) return null;
        return Parse(b) ?? (b.Length > 9 ? Parse(b[8..]) : null);
    }

    private static JsonNode? Parse(byte[] bytes)
    {
        var span = bytes.AsSpan().TrimStart(" \t\r\n"u8);
        if (span.IsEmpty || (span[0] != (byte)'{' && span[0] != (byte)'[')) return null;
        try { return JsonNode.Parse(bytes); }
        catch (JsonException) { return null; }
    }
}
