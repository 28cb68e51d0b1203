// A DIDComm v1 plaintext ("agent") message, RFC 0005 DIDComm §"Message Types" / RFC 0020, with the
// decorators every protocol needs:
//   @type   RFC 0003/0020 message type URI, both community prefixes (see MessageType)
//   @id     RFC 0008 §"Message IDs": "The sender of the message is responsible for creating the message ID";
//           "A short stream of characters matching regex [-_./a-ZA-Z0-9]{8,64}" (sic: a-zA-Z), "UUID recommended".
//           That is not a MUST, so a non-conforming id is reported by IsWellFormedId, not rejected; a missing,
//           empty or non-string @id is rejected.
//   ~thread RFC 0008 (see ThreadDecorator). "If the Thread object is defined and a thid is given, the Thread ID is
//           the value given there. But if the Thread object is not defined in a message, the Thread ID is implicitly
//           defined as the Message ID (@id)" -> ThreadId.
//   ~transport.return_route  RFC 0092: "none" (default) | "all" | "thread".
//   *~attach RFC 0017 (see Attachment).
// The message wraps its JSON object and never drops members it does not understand: what was parsed is what
// ToJsonString writes (compact).
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Conformance.Wire.Messages;

public sealed partial class AgentMessage
{
    public const string TransportField = "~transport";

    private AgentMessage(JsonObject json)
    {
        Json = json;

        if (!json.TryGetPropertyValue("@type", out var typeNode) || typeNode is null)
        {
            var hint = json.ContainsKey("type") && json.ContainsKey("body")
                ? " (it has 'type' and 'body': this looks like a DIDComm v2 message)"
                : "";
            throw new MessageFormatException("missing @type" + hint);
        }
        var type = WireJson.AsString(typeNode)
                   ?? throw new MessageFormatException($"@type must be a string, got {WireJson.Kind(typeNode)}");
        Type = MessageType.Parse(type);

        if (!json.TryGetPropertyValue("@id", out var idNode) || idNode is null)
            throw new MessageFormatException($"missing @id in {Type.Name} message");
        Id = WireJson.AsString(idNode)
             ?? throw new MessageFormatException($"@id must be a string, got {WireJson.Kind(idNode)}");
        if (Id.Length == 0) throw new MessageFormatException("@id must not be empty");

        Thread = json.TryGetPropertyValue(ThreadDecorator.Field, out var th) ? ThreadDecorator.FromJson(th) : null;

        if (json.TryGetPropertyValue(TransportField, out var tr) && tr is not null)
        {
            if (tr is not JsonObject tro)
                throw new MessageFormatException($"~transport must be an object, got {WireJson.Kind(tr)}");
            if (tro.TryGetPropertyValue("return_route", out var rr) && rr is not null)
                ReturnRoute = WireJson.AsString(rr)
                              ?? throw new MessageFormatException($"~transport.return_route must be a string, got {WireJson.Kind(rr)}");
        }
    }

    /// <summary>
    /// The wrapped JSON object, with every member as received. Treat it as read-only: the properties below were
    /// computed when the message was created; derive changed messages with <see cref="WithThread"/> / <see cref="With"/>.
    /// </summary>
    public JsonObject Json { get; }

    public string Id { get; }

    public MessageType Type { get; }

    public ThreadDecorator? Thread { get; }

    /// <summary><c>~thread.thid</c> if given, else <c>@id</c> (RFC 0008 implicit thread).</summary>
    public string ThreadId => Thread?.Thid ?? Id;

    public string? ParentThreadId => Thread?.Pthid;

    /// <summary><c>~transport.return_route</c> as sent (RFC 0092 values: "none", "all", "thread"); null if absent.</summary>
    public string? ReturnRoute { get; }

    /// <summary>True if <see cref="Id"/> matches RFC 0008's <c>[-_./a-zA-Z0-9]{8,64}</c>.</summary>
    public bool HasWellFormedId => IsWellFormedId(Id);

    public static bool IsWellFormedId(string? id) => id is not null && IdRegex().IsMatch(id);

    [GeneratedRegex("^[-_./a-zA-Z0-9]{8,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();

    public static AgentMessage Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = WireJson.TryParse(json, out var error)
                   ?? throw new MessageFormatException("message is not valid JSON: " + error);
        return Wrap(node);
    }

    public static AgentMessage Parse(ReadOnlySpan<byte> utf8)
    {
        var node = WireJson.TryParse(utf8, out var error)
                   ?? throw new MessageFormatException("message is not valid JSON: " + error);
        return Wrap(node);
    }

    /// <summary>Wraps a copy of <paramref name="o"/> (later changes to <paramref name="o"/> do not affect the message).</summary>
    public static AgentMessage FromJson(JsonObject o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new AgentMessage((JsonObject)o.DeepClone());
    }

    /// <summary>A new message <c>{"@type": type, "@id": id}</c>.</summary>
    public static AgentMessage Create(MessageType type, string id)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(id);
        return new AgentMessage(new JsonObject { ["@type"] = type.ToString(), ["@id"] = id });
    }

    /// <summary>
    /// A copy with <c>~thread.thid</c> / <c>~thread.pthid</c> set (null removes the member). Other <c>~thread</c>
    /// members (sender_order, received_orders, goal_code, ...) are kept; a <c>~thread</c> left empty is removed.
    /// </summary>
    public AgentMessage WithThread(string? thid, string? pthid)
    {
        var copy = (JsonObject)Json.DeepClone();
        var thread = copy[ThreadDecorator.Field] as JsonObject ?? new JsonObject();
        copy.Remove(ThreadDecorator.Field);
        thread.Remove("thid");
        thread.Remove("pthid");
        // thid first, pthid second, then whatever else was there: the order RFC examples use.
        var ordered = new JsonObject();
        if (thid is not null) ordered["thid"] = thid;
        if (pthid is not null) ordered["pthid"] = pthid;
        foreach (var (k, v) in thread.ToList())
        {
            thread.Remove(k);
            ordered[k] = v;
        }
        if (ordered.Count > 0) copy[ThreadDecorator.Field] = ordered;
        return new AgentMessage(copy);
    }

    /// <summary>A copy with member <paramref name="name"/> set to a copy of <paramref name="value"/> (null value: member removed).</summary>
    public AgentMessage With(string name, JsonNode? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var copy = (JsonObject)Json.DeepClone();
        if (value is null) copy.Remove(name);
        else copy[name] = value.DeepClone();
        return new AgentMessage(copy);
    }

    /// <summary>
    /// The string member <paramref name="name"/>, or null if absent or JSON null. A member of another JSON kind is a
    /// malformed message: <see cref="MessageFormatException"/>.
    /// </summary>
    public string? GetString(string name)
    {
        if (!Json.TryGetPropertyValue(name, out var n) || n is null) return null;
        return WireJson.AsString(n)
               ?? throw new MessageFormatException($"{Type.Name} member '{WireJson.Excerpt(name, 40)}' must be a string, got {WireJson.Kind(n)}");
    }

    /// <summary>
    /// The attachment descriptors in member <paramref name="field"/> (e.g. <c>"~attach"</c>, <c>"requests~attach"</c>,
    /// <c>"did_doc~attach"</c>): an embedded descriptor (object) gives one, an array gives each; absent gives none.
    /// </summary>
    public IReadOnlyList<Attachment> Attachments(string field)
    {
        ArgumentException.ThrowIfNullOrEmpty(field);
        if (!Json.TryGetPropertyValue(field, out var n) || n is null) return [];
        if (n is JsonObject single) return [Describe(field, single)];
        if (n is not JsonArray arr)
            throw new MessageFormatException($"'{WireJson.Excerpt(field, 40)}' must be an attachment object or an array of them, got {WireJson.Kind(n)}");
        var list = new List<Attachment>(arr.Count);
        foreach (var item in arr)
        {
            if (item is not JsonObject o)
                throw new MessageFormatException($"'{WireJson.Excerpt(field, 40)}' must contain attachment objects, found {WireJson.Kind(item)}");
            list.Add(Describe(field, o));
        }
        return list;
    }

    /// <summary>Compact JSON of the whole message, every member included.</summary>
    public string ToJsonString() => Json.ToCompactString();

    public byte[] ToUtf8() => Json.ToCompactUtf8();

    public override string ToString() => $"{Type} @id={Id}";

    private static AgentMessage Wrap(JsonNode node)
        => node is JsonObject o
            ? new AgentMessage(o)
            : throw new MessageFormatException($"a message must be a JSON object, got {WireJson.Kind(node)}");

    private static Attachment Describe(string field, JsonObject o)
    {
        try { return Attachment.FromJson(o); }
        catch (MessageFormatException e)
        {
            throw new MessageFormatException($"{WireJson.Excerpt(field, 40)}: {e.Message}", e.ProblemCode, e);
        }
    }
}
