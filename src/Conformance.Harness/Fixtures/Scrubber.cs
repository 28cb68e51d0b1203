// Golden-file scrubbing: replaces the values of a case transcript that change from run to run with stable
// placeholders, so fixtures/<agent>/<case-id>/*.json compare equal across runs of a non-deterministic agent.
//
// References stay intact: one original value gets one placeholder everywhere in the transcript. The @id of a
// request and the ~thread.thid of the response both read <id-1>; a DID in a DID document and in a DID URL
// (did:peer:2…#key-1 → <did-1>#key-1) read <did-1>; a key in a verkey, a multibase value, a JWK "x" and a did:key
// reads <key-2> / <didkey-2> with the same number. Numbers are handed out per category by first appearance (messages
// in order, object members in their own order, arrays in order), so a transcript always scrubs to the same bytes,
// and two transcripts that differ only in volatile values scrub to the same bytes.
//
// Placeholders:
//   <id-N>      values of @id, thid, pthid (and ScrubPolicy.IdFields, a message's top-level "id") and UUIDs
//   <key-N>     base58 32-byte verkeys, multibase keys (z6Mk…, z6LS…), JWK "x"; keyed by the key bytes
//   <did-N>     did:<method>:<id> (path, query and fragment are kept) and RFC 0160's unqualified 16-byte base58 DIDs
//   <didkey-N>  did:key:…; N is the number of the key it encodes
//   <sig-N>     64-byte signatures (base64/base64url), the signature part of a JWS
//   <b64-N>     other base64 blobs (ciphertext, iv, tag, encrypted_key, opaque attachments)
//   <time-N>    ISO 8601 date-times anywhere in a string, epoch numbers in time fields, the ~sig timestamp
//   <port-N>    the port of a URL on an ephemeral host (127.0.0.1, localhost, …)
// base64 that decodes to JSON (attachments, JWS protected headers) or to text is replaced by the decoded value,
// scrubbed recursively: {"$decoded": "base64", "json": {…}} / {"$decoded": "base64", "text": "…"}. RFC 0234
// ~sig sig_data (8-byte timestamp || JSON) becomes {"$decoded": "sig_data", "timestamp": …, "json": {…}}, and a
// compact JWS {"$decoded": "jws", "protected": {…}, "payload": …, "signature": "<sig-N>"}.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Conformance.Wire.Encoding;

namespace Conformance.Harness.Fixtures;

public static partial class Scrubber
{
    /// <summary>
    /// Scrubs a case's messages (plaintexts, in wire order) and returns scrubbed deep copies; the inputs are not
    /// modified. The same transcript always yields the same output.
    /// </summary>
    public static List<JsonObject> Scrub(IReadOnlyList<JsonObject> messages, ScrubPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        policy ??= ScrubPolicy.Default;
        // Pass 1 learns which strings are identifiers (values of id fields, wherever they first occur), so pass 2
        // can replace them also where they appear before their id field or inside other strings.
        var learn = new Session(policy, knownIds: null);
        foreach (var m in messages) learn.Scrub(m.DeepClone());
        var session = new Session(policy, learn.IdValues);
        return messages.Select(m => (JsonObject)session.Scrub(m.DeepClone())).ToList();
    }

    /// <summary>Scrubs one message on its own (a transcript of one).</summary>
    public static JsonObject Scrub(JsonObject message, ScrubPolicy? policy = null) => Scrub([message], policy)[0];

    // Names whose values are vocabulary, never volatile.
    private static readonly HashSet<string> NeverScrub = new(StringComparer.Ordinal)
    {
        "@type", "type", "typ", "alg", "enc", "kty", "crv", "cty", "mime-type", "mime_type", "media_type", "@context",
        "goal_code", "handshake_protocols", "accept", "protocol", "purpose", "lastmod_time_format", "role", "state",
    };

    // Names whose values are base64 (so a base58-looking value there is not read as a verkey).
    private static readonly HashSet<string> Base64Names = new(StringComparer.Ordinal)
    {
        "base64", "sig_data", "signature", "protected", "iv", "ciphertext", "tag", "encrypted_key", "sender", "x", "y",
        "jws", "payload", "epk", "apu", "apv",
    };

    private static readonly HashSet<string> TimeNames = new(StringComparer.Ordinal)
    {
        "iat", "exp", "nbf", "created", "expires", "timestamp", "time", "created_at", "updated_at",
    };

    private const string Uuid = @"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    private const string IsoTime = @"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|[+-]\d{2}(?::?\d{2})?))?";
    // DID syntax (DID Core §3.1): did:<method-name>:<method-specific-id>, idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded.
    private const string Did = @"did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*(?::(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*)*";

    [GeneratedRegex(@"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")]
    private static partial Regex JwsCompact();

    [GeneratedRegex(@"^[A-Za-z0-9+/_-]+={0,2}$")]
    private static partial Regex Base64Chars();

    private sealed class Session(ScrubPolicy policy, IReadOnlySet<string>? knownIds)
    {
        private readonly Dictionary<string, string> _map = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
        private readonly Regex _text = BuildTextRegex(policy, knownIds);

        /// <summary>Values seen in id fields (learnt in pass 1).</summary>
        public HashSet<string> IdValues { get; } = new(StringComparer.Ordinal);

        public JsonNode Scrub(JsonNode message) => Walk(message, null, null, 0) ?? message;

        private static Regex BuildTextRegex(ScrubPolicy policy, IReadOnlySet<string>? knownIds)
        {
            var hosts = string.Join("|", policy.EphemeralHosts.Select(Regex.Escape));
            var parts = new List<string>
            {
                $@"(?<url>\b[a-zA-Z][a-zA-Z0-9+.-]*://(?:{hosts})):(?<port>\d{{1,5}})\b",
                $@"(?<did>{Did})(?:#(?<frag>[A-Za-z0-9._~%!$&'()*+,;=:@/?-]+))?",
                $@"(?<uuid>\b{Uuid}\b)",
                $@"(?<time>\b{IsoTime})",
            };
            var known = knownIds?.Where(k => k.Length >= 8).OrderByDescending(k => k.Length).ThenBy(k => k, StringComparer.Ordinal).ToList();
            if (known is { Count: > 0 })
                parts.Add($@"(?<![A-Za-z0-9])(?<known>{string.Join("|", known.Select(Regex.Escape))})(?![A-Za-z0-9])");
            return new Regex(string.Join("|", parts), RegexOptions.CultureInvariant);
        }

        private string Placeholder(string category, string identity)
        {
            var key = category + "\u0000" + identity;
            if (_map.TryGetValue(key, out var p)) return p;
            var n = _counters[category] = _counters.GetValueOrDefault(category) + 1;
            return _map[key] = $"<{category}-{n}>";
        }

        private string Id(string value) => Placeholder("id", value);
        private string Key(byte[] bytes) => Placeholder("key", Convert.ToHexString(bytes));
        private string Time(string raw) => policy.NumberTimes ? Placeholder("time", raw) : "<time>";

        // Returns the replacement for node, or null to keep it.
        private JsonNode? Walk(JsonNode? node, string? name, JsonObject? parent, int depth)
        {
            switch (node)
            {
                case JsonObject obj:
                    var renamed = false;
                    foreach (var (k, v) in obj.ToList())
                    {
                        renamed |= Name(k) != k;    // the name first: reading order numbers placeholders
                        var r = Walk(v, k, obj, depth + 1);
                        if (r != null) obj[k] = r;
                    }
                    if (renamed)
                    {
                        // Member names can be volatile too (RFC 0008 ~thread.received_orders is keyed by DID):
                        // rebuild the object with scrubbed names, in the same order.
                        var members = obj.ToList();
                        obj.Clear();
                        foreach (var (k, v) in members) obj[Name(k)] = v;
                    }
                    return null;
                case JsonArray arr:
                    for (var i = 0; i < arr.Count; i++)
                    {
                        var r = Walk(arr[i], name, parent, depth + 1);
                        if (r != null) arr[i] = r;
                    }
                    return null;
                case JsonValue val when val.GetValueKind() == JsonValueKind.String:
                    return String(val.GetValue<string>(), name, parent, depth);
                case JsonValue val when val.GetValueKind() == JsonValueKind.Number:
                    return Number(val, name);
                default:
                    return null;
            }
        }

        // A member name: DIDs, UUIDs, times and ports inside it, or a whole verkey / unqualified DID.
        private string Name(string k)
        {
            if (k.Length < 8 || NeverScrub.Contains(k)) return k;
            if (TryBase58(k, out var b58)) return b58?.GetValue<string>() ?? k;
            return Text(k);
        }

        private JsonNode? Number(JsonValue val, string? name)
        {
            // Durations an agent measured with its clock (RFC 0685 status.longest_waited_seconds) change run to run.
            if (policy.Times && name != null && name.EndsWith("_seconds", StringComparison.Ordinal))
                return policy.NumberTimes ? Placeholder("duration", val.ToJsonString()) : "<duration>";
            if (!policy.Times || name == null || !IsTimeName(name)) return null;
            // The JSON text, not TryGetValue<long>: a JsonValue built from an int does not convert to long.
            var text = val.ToJsonString();
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
                || n < 1_000_000_000 || n >= 100_000_000_000_000) return null;
            return Time(text);
        }

        private static bool IsTimeName(string name) =>
            TimeNames.Contains(name) || name.EndsWith("_time", StringComparison.Ordinal) || name.EndsWith("Time", StringComparison.Ordinal)
            || name.EndsWith("_at", StringComparison.Ordinal) || name.EndsWith("timestamp", StringComparison.OrdinalIgnoreCase);

        private bool IsIdField(string? name, int depth) =>
            name != null && (policy.IdFields.Contains(name) || (name == "id" && depth == 1));

        private static bool IsReference(string s) => s.StartsWith("did:", StringComparison.Ordinal) || s.Contains("://", StringComparison.Ordinal);

        private JsonNode? String(string s, string? name, JsonObject? parent, int depth)
        {
            if (s.Length == 0 || policy.KeepValues.Contains(s)) return null;
            if (name != null && NeverScrub.Contains(name)) return null;

            if (IsIdField(name, depth) && !IsReference(s))
            {
                IdValues.Add(s);
                return policy.Ids ? Id(s) : null;
            }
            if (policy.Ids && knownIds != null && s.Length >= 6 && knownIds.Contains(s)) return Id(s);

            if (JwsCompact().IsMatch(s) && TryJws(s, out var jws)) return jws;
            if (name == "sig_data" && policy.DecodeBase64Json && TrySigData(s, out var sigData)) return sigData;

            var b64Name = name != null && Base64Names.Contains(name);
            if (!b64Name && TryBase58(s, out var handled58)) return handled58;
            // Unnamed values must be long to count as blobs: "Ed25519VerificationKey2018" is base64 alphabet too.
            var minLength = name == "base64" ? 4 : b64Name ? 16 : 40;
            if (s.Length >= minLength && Base64Chars().IsMatch(s) && TryBase64(s, name, parent, out var handled64))
                return handled64;

            var text = Text(s);
            return ReferenceEquals(text, s) ? null : text;
        }

        // Substring pass: ephemeral ports, DIDs and DID URLs, UUIDs, ISO times, known ids — left to right.
        private string Text(string s)
        {
            var changed = false;
            var result = _text.Replace(s, m =>
            {
                string r;
                if (m.Groups["port"].Success)
                    r = policy.Ports ? m.Groups["url"].Value + ":" + Placeholder("port", m.Groups["port"].Value) : m.Value;
                else if (m.Groups["did"].Success)
                    r = DidUrl(m.Groups["did"].Value, m.Groups["frag"].Success ? m.Groups["frag"].Value : null);
                else if (m.Groups["uuid"].Success)
                    r = policy.Ids ? Id(m.Value) : m.Value;
                else if (m.Groups["time"].Success)
                    r = policy.Times ? Time(m.Value) : m.Value;
                else
                    r = policy.Ids ? Id(m.Value) : m.Value;
                changed |= r != m.Value;
                return r;
            });
            return changed ? result : s;
        }

        private string DidUrl(string did, string? fragment)
        {
            // A trailing "." or ":" is sentence punctuation, not part of the DID.
            var tail = "";
            while (did.Length > 0 && (did[^1] == '.' || did[^1] == ':') && fragment == null)
            {
                tail = did[^1] + tail;
                did = did[..^1];
            }
            var frag = fragment == null ? "" : "#" + (policy.Keys && TryMultibaseKey(fragment, out var fk) ? Key(fk) : fragment);
            if (!policy.Dids || policy.KeepValues.Contains(did)) return did + frag + tail;
            string p;
            if (did.StartsWith("did:key:", StringComparison.Ordinal) && TryMultibaseKey(did[8..], out var key))
                p = "<didkey-" + Key(key)[5..];        // "<key-N>" -> "<didkey-N>": the same key, the same number
            else
                p = Placeholder("did", did);
            return p + frag + tail;
        }

        private static bool TryMultibaseKey(string s, out byte[] key)
        {
            key = [];
            if (s.Length < 40 || s[0] != 'z' || !Base58.TryDecode(s[1..], out var b)) return false;
            // multicodec prefixes (varint): ed25519-pub 0xed, x25519-pub 0xec, secp256k1-pub 0xe7, p256-pub 0x1200.
            if (b.Length == 34 && (b[0] == 0xed || b[0] == 0xec) && b[1] == 0x01) { key = b[2..]; return true; }
            if (b.Length == 35 && ((b[0] == 0xe7 && b[1] == 0x01) || (b[0] == 0x80 && b[1] == 0x24))) { key = b[2..]; return true; }
            return false;
        }

        // Verkeys (32 bytes), multibase keys, unqualified RFC 0160 DIDs (16 bytes), each optionally with "#fragment".
        private bool TryBase58(string s, out JsonNode? replacement)
        {
            replacement = null;
            var hash = s.IndexOf('#');
            var head = hash < 0 ? s : s[..hash];
            var frag = hash < 0 ? "" : s[hash..];
            if (head.Length < 21 || head.Length > 60 || !Base58.TryDecode(head, out var bytes)) return false;
            string? p = null;
            if (TryMultibaseKey(head, out var mk)) p = policy.Keys ? Key(mk) : head;
            else if (bytes.Length == 32 && head.Length >= 43) p = policy.Keys ? Key(bytes) : head;
            else if (bytes.Length == 16 && head.Length is >= 21 and <= 22) p = policy.Dids ? Placeholder("did", head) : head;
            if (p == null) return false;
            if (frag.Length > 1 && policy.Keys && TryMultibaseKey(frag[1..], out var fk)) frag = "#" + Key(fk);
            var r = p + frag;
            replacement = r == s ? null : JsonValue.Create(r);
            return true;
        }

        private bool TryBase64(string s, string? name, JsonObject? parent, out JsonNode? replacement)
        {
            replacement = null;
            if (!Base64Url.TryDecode(s, out var bytes) || bytes.Length == 0) return false;
            if (policy.DecodeBase64Json)
            {
                if (TryParseJson(bytes) is { } json)
                {
                    replacement = new JsonObject { ["$decoded"] = "base64", ["json"] = Walk(json, null, null, 0) ?? json };
                    return true;
                }
                if (name == "base64" && TryText(bytes) is { } text)
                {
                    replacement = new JsonObject { ["$decoded"] = "base64", ["text"] = Text(text) };
                    return true;
                }
            }
            string? p;
            if (name == "signature" || bytes.Length == 64) p = policy.Signatures ? Placeholder("sig", s) : null;
            else if (bytes.Length == 32 && (name is "x" or "y" && parent?["kty"] != null)) p = policy.Keys ? Key(bytes) : null;
            else p = policy.Blobs ? Placeholder("b64", s) : null;
            replacement = p == null ? null : JsonValue.Create(p);
            return true;
        }

        private bool TryJws(string s, out JsonNode? replacement)
        {
            replacement = null;
            var parts = s.Split('.');
            if (!Base64Url.TryDecode(parts[0], out var hb) || TryParseJson(hb) is not JsonObject header || header["alg"] == null) return false;
            if (!policy.DecodeBase64Json)
            {
                replacement = policy.Signatures ? JsonValue.Create(Placeholder("sig", s)) : null;
                return true;
            }
            JsonNode? payload;
            if (parts[1].Length == 0) payload = "";
            else if (Base64Url.TryDecode(parts[1], out var pb) && TryParseJson(pb) is { } pj) payload = Walk(pj, null, null, 0) ?? pj;
            else payload = policy.Blobs ? Placeholder("b64", parts[1]) : parts[1];
            replacement = new JsonObject
            {
                ["$decoded"] = "jws",
                ["protected"] = Walk(header, null, null, 0) ?? header,
                ["payload"] = payload,
                ["signature"] = policy.Signatures ? Placeholder("sig", parts[2]) : parts[2],
            };
            return true;
        }

        // RFC 0234: "sig_data MUST be the base64URL encoding of a 64-bit integer prepended to the message".
        private bool TrySigData(string s, out JsonNode? replacement)
        {
            replacement = null;
            if (!Base64Url.TryDecode(s, out var bytes) || bytes.Length < 9 || TryParseJson(bytes.AsSpan(8).ToArray()) is not { } json) return false;
            var ts = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            var raw = ts.ToString(System.Globalization.CultureInfo.InvariantCulture);
            replacement = new JsonObject
            {
                ["$decoded"] = "sig_data",
                ["timestamp"] = policy.Times ? JsonValue.Create(Time(raw)) : JsonValue.Create(ts),
                ["json"] = Walk(json, null, null, 0) ?? json,
            };
            return true;
        }

        private static JsonNode? TryParseJson(byte[] bytes)
        {
            var span = bytes.AsSpan().TrimStart(" \t\r\n"u8);
            if (span.IsEmpty || (span[0] != (byte)'{' && span[0] != (byte)'[')) return null;
            try { return JsonNode.Parse(bytes); }
            catch (JsonException) { return null; }
        }

        private static string? TryText(byte[] bytes)
        {
            try
            {
                var text = new UTF8Encoding(false, true).GetString(bytes);
                return text.All(c => c >= ' ' || c is '\t' or '\r' or '\n') ? text : null;
            }
            catch (DecoderFallbackException) { return null; }
        }
    }
}
