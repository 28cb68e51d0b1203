using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Wire.Encoding;

namespace Conformance.Mediator;

/// <summary>
/// base64url on the hot path (every forward and every delivery): the BCL's single-pass encoder (same output as
/// <c>Base64Url.Encode(data, padded: false)</c>) and the tolerant <see cref="Base64Url"/> decoder.
/// </summary>
internal static class FastBase64
{
    public static string Encode(ReadOnlySpan<byte> data) => System.Buffers.Text.Base64Url.EncodeToString(data);

    public static byte[]? Decode(string text) => Base64Url.TryDecode(text, out var bytes) ? bytes : null;
}

/// <summary>
/// One attachment of a DIDComm v2 plaintext message (message_structure.md "Attachments"). Inline data is kept exactly as
/// it arrived: <see cref="Base64"/> is the base64url text, <see cref="JsonRaw"/> the raw JSON text of <c>data.json</c>
/// (not re-serialized), so that a forwarded envelope is stored byte for byte as the sender attached it.
/// </summary>
public sealed record V2Attachment
{
    /// <summary>"OPTIONAL but recommended"; "MUST consist entirely of unreserved URI characters".</summary>
    public string? Id { get; init; }
    public string? MediaType { get; init; }
    public string? Description { get; init; }
    public string? Format { get; init; }
    /// <summary><c>data.base64</c>: "Base64url-encoded data".</summary>
    public string? Base64 { get; init; }
    /// <summary><c>data.json</c> as its raw JSON text.</summary>
    public string? JsonRaw { get; init; }
    /// <summary><c>data.links</c>.</summary>
    public IReadOnlyList<string> Links { get; init; } = [];
    /// <summary><c>data.hash</c> (multi-hash).</summary>
    public string? Hash { get; init; }

    /// <summary>The inline content: the decoded base64, else the UTF-8 of the raw JSON; null when the data is only linked.</summary>
    public byte[]? GetBytes()
    {
        if (Base64 is not null)
        {
            return FastBase64.Decode(Base64)
                ?? throw new DidCommException(ProblemCodes.Malformed, $"attachment {Show(Id)}: data.base64 is not base64url");
        }
        return JsonRaw is null ? null : Encoding.UTF8.GetBytes(JsonRaw);
    }

    /// <summary>An attachment carrying an encrypted DIDComm message: inline JSON (<paramref name="asJson"/>) or base64url.</summary>
    public static V2Attachment ForEnvelope(ReadOnlySpan<byte> envelope, string? id = null, bool asJson = true)
    {
        if (asJson)
        {
            try
            {
                var reader = new Utf8JsonReader(envelope);
                using var _ = JsonDocument.ParseValue(ref reader);   // must be one JSON value
                if (reader.BytesConsumed != envelope.Length && envelope[(int)reader.BytesConsumed..].Trim(" \t\r\n"u8).Length != 0)
                    throw new DidCommException(ProblemCodes.Malformed, "an envelope attached as JSON must be exactly one JSON value");
            }
            catch (JsonException) { throw new DidCommException(ProblemCodes.Malformed, "an envelope attached as JSON must be JSON"); }
            return new V2Attachment { Id = id, MediaType = Wire.DidComm2.MediaTypes.Encrypted, JsonRaw = Encoding.UTF8.GetString(envelope) };
        }
        return new V2Attachment { Id = id, MediaType = Wire.DidComm2.MediaTypes.Encrypted, Base64 = FastBase64.Encode(envelope) };
    }

    internal static string Show(string? s) => s is null ? "(no id)" : "'" + (s.Length > 40 ? s[..40] + "…" : s) + "'";
}

/// <summary>
/// A DIDComm v2 plaintext message (message_structure.md "Plaintext Message Structure"): the JWM headers the spec
/// defines, the <c>body</c>, the <c>attachments</c>, and every other header (<c>return_route</c>, <c>please_ack</c>,
/// <c>ack</c>, …) kept in <see cref="Headers"/> so nothing is lost on a round trip.
/// <list type="bullet">
/// <item><c>id</c> — "REQUIRED. Message ID ... MUST be unique to the sender" (a string).</item>
/// <item><c>type</c> — "REQUIRED. Plaintext message type, a URI".</item>
/// <item><c>from</c> — "MUST be a string that is a valid DID or DID URL (without the fragment component)".</item>
/// <item><c>to</c> — "OPTIONAL. ... an array of strings".</item>
/// <item><c>created_time</c>, <c>expires_time</c> — "UTC Epoch Seconds ... as an integer".</item>
/// <item><c>body</c> — "OPTIONAL ... If present, it MUST be a JSON object"; "allowed the attribute to not exist when
/// receiving" (an absent body reads as <c>{}</c>).</item>
/// </list>
/// Parsing throws <see cref="DidCommException"/> (<see cref="ProblemCodes.Malformed"/>) with a one-line reason.
/// </summary>
public sealed class V2Message
{
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 64 };
    private static readonly JsonWriterOptions WriteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly HashSet<string> Reserved =
        ["id", "type", "typ", "from", "to", "thid", "pthid", "created_time", "expires_time", "body", "attachments"];

    public required string Id { get; init; }
    public required string Type { get; init; }
    public string? From { get; init; }
    public IReadOnlyList<string>? To { get; init; }
    public string? Thid { get; init; }
    public string? Pthid { get; init; }
    public long? CreatedTime { get; init; }
    public long? ExpiresTime { get; init; }
    public JsonObject Body { get; init; } = [];
    public IReadOnlyList<V2Attachment> Attachments { get; init; } = [];
    /// <summary>Headers other than the ones above (for example <c>return_route</c>, <c>please_ack</c>, <c>ack</c>).</summary>
    public JsonObject Headers { get; init; } = [];

    /// <summary>"If not included, the id property of the message MUST be treated as the value of the thid."</summary>
    public string ThreadId => Thid ?? Id;

    /// <summary>The <c>return_route</c> header (<c>none</c>, <c>all</c> or <c>thread</c>), or null.</summary>
    public string? ReturnRoute => Headers["return_route"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>A copy with other values (records would copy <see cref="Body"/> by reference; this is explicit).</summary>
    public V2Message With(string? from = null, IReadOnlyList<string>? to = null, string? returnRoute = null)
    {
        var headers = (JsonObject)Headers.DeepClone();
        if (returnRoute is not null) headers["return_route"] = returnRoute;
        return new V2Message
        {
            Id = Id, Type = Type, From = from ?? From, To = to ?? To, Thid = Thid, Pthid = Pthid,
            CreatedTime = CreatedTime, ExpiresTime = ExpiresTime, Body = (JsonObject)Body.DeepClone(),
            Attachments = Attachments, Headers = headers,
        };
    }

    // ------------------------------------------------------------------ parse

    public static V2Message Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    public static V2Message Parse(ReadOnlySpan<byte> utf8)
    {
        JsonDocument doc;
        try
        {
            var bytes = ArrayPool<byte>.Shared.Rent(utf8.Length);
            try
            {
                utf8.CopyTo(bytes);
                doc = JsonDocument.Parse(bytes.AsMemory(0, utf8.Length), ReadOptions);
            }
            finally { ArrayPool<byte>.Shared.Return(bytes); }
        }
        catch (JsonException) { throw Bad("the plaintext message is not valid JSON"); }
        catch (ArgumentException) { throw Bad("the plaintext message is not valid UTF-8 JSON"); }
        using (doc) return FromElement(doc.RootElement);
    }

    public static V2Message FromElement(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("a plaintext message must be a JSON object");
        string? id = null, type = null, from = null, thid = null, pthid = null;
        List<string>? to = null;
        long? created = null, expires = null;
        JsonObject body = [];
        var attachments = new List<V2Attachment>();
        var headers = new JsonObject();
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "id": id = Str(p, required: true); break;
                case "type": type = Str(p, required: true); break;
                case "typ":
                    var typ = Str(p, required: true);
                    if (!Wire.DidComm2.MediaTypes.Is(typ, Wire.DidComm2.MediaTypes.Plain))
                        throw Bad($"plaintext 'typ' is {Show(typ)}, not {Wire.DidComm2.MediaTypes.Plain}");
                    break;
                case "from":
                    from = Str(p, required: true)!;
                    if (!from.StartsWith("did:", StringComparison.Ordinal)) throw Bad($"'from' {Show(from)} is not a DID");
                    if (from.Contains('#')) throw Bad("'from' MUST be a DID or DID URL without the fragment component");
                    break;
                case "to":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.Array) throw Bad("'to' must be an array of DID strings");
                    to = [];
                    foreach (var t in p.Value.EnumerateArray())
                    {
                        if (t.ValueKind != JsonValueKind.String) throw Bad("'to' must be an array of DID strings");
                        to.Add(t.GetString()!);
                    }
                    break;
                case "thid": thid = Str(p, required: false); break;
                case "pthid": pthid = Str(p, required: false); break;
                case "created_time": created = Time(p); break;
                case "expires_time": expires = Time(p); break;
                case "body":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.Object) throw Bad("'body' must be a JSON object");
                    body = JsonObject.Create(p.Value.Clone())!;
                    break;
                case "attachments":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.Array) throw Bad("'attachments' must be an array");
                    foreach (var a in p.Value.EnumerateArray()) attachments.Add(ReadAttachment(a, attachments.Count));
                    break;
                default:
                    headers[p.Name] = JsonNode.Parse(p.Value.GetRawText());
                    break;
            }
        }
        if (string.IsNullOrEmpty(id)) throw Bad("the plaintext message has no 'id' (REQUIRED)");
        if (string.IsNullOrEmpty(type)) throw Bad("the plaintext message has no 'type' (REQUIRED)");
        return new V2Message
        {
            Id = id, Type = type, From = from, To = to, Thid = thid, Pthid = pthid, CreatedTime = created, ExpiresTime = expires,
            Body = body, Attachments = attachments, Headers = headers,
        };
    }

    private static V2Attachment ReadAttachment(JsonElement a, int index)
    {
        var where = $"attachment {index + 1}";
        if (a.ValueKind != JsonValueKind.Object) throw Bad($"{where} must be a JSON object");
        string? id = null, mediaType = null, description = null, format = null, b64 = null, json = null, hash = null;
        List<string> links = [];
        var hasData = false;
        foreach (var p in a.EnumerateObject())
        {
            switch (p.Name)
            {
                case "id": id = Str(p, required: false); break;
                case "media_type": mediaType = Str(p, required: false); break;
                case "description": description = Str(p, required: false); break;
                case "format": format = Str(p, required: false); break;
                case "data":
                    hasData = true;
                    if (p.Value.ValueKind != JsonValueKind.Object) throw Bad($"{where}: 'data' must be a JSON object");
                    foreach (var d in p.Value.EnumerateObject())
                    {
                        switch (d.Name)
                        {
                            case "base64": b64 = Str(d, required: true); break;
                            case "json": json = d.Value.GetRawText(); break;
                            case "hash": hash = Str(d, required: false); break;
                            case "links":
                                if (d.Value.ValueKind != JsonValueKind.Array) throw Bad($"{where}: 'data.links' must be an array");
                                foreach (var l in d.Value.EnumerateArray())
                                    links.Add(l.ValueKind == JsonValueKind.String ? l.GetString()! : throw Bad($"{where}: 'data.links' must hold strings"));
                                break;
                        }
                    }
                    break;
            }
        }
        // "data ... MUST contain at least one of the following subfields, and enough of them to allow access to the data".
        if (!hasData) throw Bad($"{where} has no 'data'");
        if (b64 is null && json is null && links.Count == 0 && !a.GetProperty("data").TryGetProperty("jws", out _))
            throw Bad($"{where}: 'data' has none of base64, json, links or jws");
        if (links.Count > 0 && hash is null && b64 is null && json is null)
            throw Bad($"{where}: 'data.hash' MUST be used if the data is referenced via 'links'");
        return new V2Attachment { Id = id, MediaType = mediaType, Description = description, Format = format, Base64 = b64, JsonRaw = json, Links = links, Hash = hash };
    }

    private static string? Str(JsonProperty p, bool required)
    {
        if (p.Value.ValueKind == JsonValueKind.String) return p.Value.GetString();
        if (!required && p.Value.ValueKind == JsonValueKind.Null) return null;
        throw Bad($"'{p.Name}' must be a string");
    }

    private static long? Time(JsonProperty p)
    {
        if (p.Value.ValueKind == JsonValueKind.Null) return null;
        if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out var t)) return t;
        throw Bad($"'{p.Name}' must be an integer (UTC epoch seconds)");
    }

    private static DidCommException Bad(string message) => new(ProblemCodes.Malformed, message);

    private static string Show(string? s) => V2Attachment.Show(s);

    // ------------------------------------------------------------------ write

    public string ToJson() => Encoding.UTF8.GetString(ToUtf8());

    public byte[] ToUtf8()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriteOptions)) Write(w);
        return buffer.WrittenSpan.ToArray();
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("typ", Wire.DidComm2.MediaTypes.Plain);
        w.WriteString("type", Type);
        if (From is not null) w.WriteString("from", From);
        if (To is not null)
        {
            w.WriteStartArray("to");
            foreach (var t in To) w.WriteStringValue(t);
            w.WriteEndArray();
        }
        if (Thid is not null) w.WriteString("thid", Thid);
        if (Pthid is not null) w.WriteString("pthid", Pthid);
        if (CreatedTime is { } c) w.WriteNumber("created_time", c);
        if (ExpiresTime is { } e) w.WriteNumber("expires_time", e);
        foreach (var (name, value) in Headers)
        {
            if (Reserved.Contains(name)) continue;
            w.WritePropertyName(name);
            if (value is null) w.WriteNullValue(); else value.WriteTo(w);
        }
        w.WritePropertyName("body");
        Body.WriteTo(w);
        if (Attachments.Count > 0)
        {
            w.WriteStartArray("attachments");
            foreach (var a in Attachments) WriteAttachment(w, a);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteAttachment(Utf8JsonWriter w, V2Attachment a)
    {
        w.WriteStartObject();
        if (a.Id is not null) w.WriteString("id", a.Id);
        if (a.Description is not null) w.WriteString("description", a.Description);
        if (a.MediaType is not null) w.WriteString("media_type", a.MediaType);
        if (a.Format is not null) w.WriteString("format", a.Format);
        w.WriteStartObject("data");
        if (a.Base64 is not null) w.WriteString("base64", a.Base64);
        if (a.JsonRaw is not null)
        {
            w.WritePropertyName("json");
            w.WriteRawValue(a.JsonRaw, skipInputValidation: false);
        }
        if (a.Hash is not null) w.WriteString("hash", a.Hash);
        if (a.Links.Count > 0)
        {
            w.WriteStartArray("links");
            foreach (var l in a.Links) w.WriteStringValue(l);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public override string ToString() => $"{Type} {Id}";
}
