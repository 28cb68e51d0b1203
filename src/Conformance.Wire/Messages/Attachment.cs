// Attachment descriptors, Aries RFC 0017 "Attachments" §"Attachment Descriptor structure":
//   @id, description, filename, mime-type, lastmod_time, byte_count, and data { jws, sha256, links, base64, json }.
// §"base64url": "this encoding is always base64url encoding, not plain base64, and ... padding is not required.
//   Code that reads this encoding SHOULD tolerate the presence or absence of padding and base64 versus base64url
//   encodings equally well, but code that writes this encoding SHOULD omit the padding"
//   -> Bytes() accepts all four forms; FromBytes() writes unpadded base64url.
// Real agents: ACA-Py and Credo both write did_doc~attach as *standard, padded* base64 (ACA-Py bytes_to_b64,
// Credo JsonEncoder.toBase64), and Credo writes did_rotate~attach as unpadded base64url. Both read "mime-type".
// §"Content Formats": "Only one method should be used per attachment" (SHOULD; not enforced here).
// The RFC's own photo-share.json example names the data object "content" instead of "data" (an older draft); it
// is read as "data" but written back as "data".
using System.Text.Json.Nodes;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Messages;

public sealed record Attachment(
    string? Id,
    string? MimeType,
    string? Base64,
    JsonNode? Json,
    IReadOnlyList<string>? Links,
    JsonObject? Jws,
    string? Sha256)
{
    public string? Description { get; init; }
    public string? Filename { get; init; }
    public string? LastmodTime { get; init; }
    public long? ByteCount { get; init; }

    /// <summary>Members of the descriptor and of its <c>data</c> that RFC 0017 does not define; kept for <see cref="ToJson"/>.</summary>
    private JsonObject? ExtraMembers { get; init; }
    private JsonObject? ExtraDataMembers { get; init; }

    private static readonly HashSet<string> Known =
        ["@id", "mime-type", "mime_type", "filename", "lastmod_time", "byte_count", "description", "data", "content"];
    private static readonly HashSet<string> KnownData = ["base64", "json", "links", "jws", "sha256"];

    /// <summary>
    /// The attached bytes from <c>data.base64</c>, tolerant of padding, of the standard alphabet and of line
    /// breaks. Throws <see cref="MessageFormatException"/> if there is no base64 data or it does not decode.
    /// </summary>
    public byte[] Bytes()
    {
        if (Base64 is null)
            throw new MessageFormatException($"attachment{Label} has no data.base64 (it carries {ContentKind()})");
        var compact = Base64.Contains('\n') || Base64.Contains('\r') || Base64.Contains(' ')
            ? string.Concat(Base64.Where(c => !char.IsWhiteSpace(c)))
            : Base64;
        if (!Base64Url.TryDecode(compact, out var bytes))
            throw new MessageFormatException($"attachment{Label} data.base64 is not valid base64/base64url");
        return bytes;
    }

    /// <summary>
    /// The attachment's JSON content: <c>data.json</c> as is (a copy), or <c>data.base64</c> decoded and parsed
    /// (as ACA-Py's <c>AttachDecorator.content</c> and Credo's <c>getDataAsJson</c> do). Throws <see cref="MessageFormatException"/>.
    /// </summary>
    public JsonNode JsonContent()
    {
        if (Json is not null) return Json.DeepClone();
        var node = WireJson.TryParse(Bytes(), out var error)
                   ?? throw new MessageFormatException($"attachment{Label} data.base64 is not JSON: {error}");
        return node;
    }

    /// <summary>A new descriptor carrying <paramref name="data"/> as unpadded base64url (RFC 0017 writers SHOULD omit padding).</summary>
    public static Attachment FromBytes(ReadOnlySpan<byte> data, string? id = null, string? mimeType = null)
        => new(id, mimeType, Base64Url.Encode(data), null, null, null, null);

    /// <summary>Reads an attachment descriptor. Throws <see cref="MessageFormatException"/> naming the bad member.</summary>
    public static Attachment FromJson(JsonObject o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var id = OptString(o, "@id", "attachment");
        var label = id is null ? "" : $" '{WireJson.Excerpt(id, 40)}'";
        var mime = OptString(o, "mime-type", "attachment" + label) ?? OptString(o, "mime_type", "attachment" + label);

        JsonNode? dataNode = null;
        if (!o.TryGetPropertyValue("data", out dataNode) || dataNode is null)
            o.TryGetPropertyValue("content", out dataNode); // RFC 0017 photo-share.json (older draft)
        if (dataNode is null)
            throw new MessageFormatException($"attachment{label} has no data object");
        if (dataNode is not JsonObject data)
            throw new MessageFormatException($"attachment{label} data must be an object, got {WireJson.Kind(dataNode)}");

        var where = "attachment" + label + " data";
        var b64 = OptString(data, "base64", where);
        data.TryGetPropertyValue("json", out var json);

        List<string>? links = null;
        if (data.TryGetPropertyValue("links", out var ln) && ln is not null)
        {
            if (ln is not JsonArray arr)
                throw new MessageFormatException($"{where}.links must be an array of strings, got {WireJson.Kind(ln)}");
            links = new List<string>(arr.Count);
            foreach (var item in arr)
                links.Add(WireJson.AsString(item) ??
                          throw new MessageFormatException($"{where}.links must be an array of strings, found {WireJson.Kind(item)}"));
        }

        JsonObject? jws = null;
        if (data.TryGetPropertyValue("jws", out var jn) && jn is not null)
            jws = jn as JsonObject ?? throw new MessageFormatException($"{where}.jws must be an object, got {WireJson.Kind(jn)}");

        long? byteCount = null;
        if (o.TryGetPropertyValue("byte_count", out var bc) && bc is not null)
            byteCount = WireJson.AsLong(bc) ??
                throw new MessageFormatException($"attachment{label} byte_count must be an integer, got {WireJson.Kind(bc)}");

        return new Attachment(id, mime, b64, json?.DeepClone(), links, (JsonObject?)jws?.DeepClone(), OptString(data, "sha256", where))
        {
            Description = OptString(o, "description", "attachment" + label),
            Filename = OptString(o, "filename", "attachment" + label),
            LastmodTime = OptString(o, "lastmod_time", "attachment" + label),
            ByteCount = byteCount,
            ExtraMembers = Extras(o, Known),
            ExtraDataMembers = Extras(data, KnownData),
        };
    }

    /// <summary>The descriptor as RFC 0017 JSON (writes <c>mime-type</c>, and <c>data</c> even if read from <c>content</c>).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject();
        if (Id is not null) o["@id"] = Id;
        if (MimeType is not null) o["mime-type"] = MimeType;
        if (Filename is not null) o["filename"] = Filename;
        if (LastmodTime is not null) o["lastmod_time"] = LastmodTime;
        if (ByteCount is not null) o["byte_count"] = ByteCount.Value;
        if (Description is not null) o["description"] = Description;
        if (ExtraMembers is not null)
            foreach (var (k, v) in ExtraMembers) o[k] = v?.DeepClone();

        var data = new JsonObject();
        if (Base64 is not null) data["base64"] = Base64;
        if (Json is not null) data["json"] = Json.DeepClone();
        if (Links is not null) data["links"] = new JsonArray(Links.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray());
        if (Sha256 is not null) data["sha256"] = Sha256;
        if (Jws is not null) data["jws"] = Jws.DeepClone();
        if (ExtraDataMembers is not null)
            foreach (var (k, v) in ExtraDataMembers) data[k] = v?.DeepClone();
        o["data"] = data;
        return o;
    }

    private string Label => Id is null ? "" : $" '{WireJson.Excerpt(Id, 40)}'";

    private string ContentKind() => Json is not null ? "data.json" : Links is not null ? "data.links" : "no content";

    private static string? OptString(JsonObject o, string name, string where)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        return WireJson.AsString(n) ??
               throw new MessageFormatException($"{where} member '{name}' must be a string, got {WireJson.Kind(n)}");
    }

    private static JsonObject? Extras(JsonObject o, HashSet<string> known)
    {
        JsonObject? extra = null;
        foreach (var (k, v) in o)
            if (!known.Contains(k))
                (extra ??= new JsonObject())[k] = v?.DeepClone();
        return extra;
    }
}
