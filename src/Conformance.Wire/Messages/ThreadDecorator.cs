// The ~thread decorator, Aries RFC 0008 "Message ID and Threading" §"Threaded Messages".
//   thid            "The ID of the message that serves as the thread start."
//   pthid           "An optional parent thid."
//   sender_order    where this message fits among the current sender's messages on the thread (0, 1, ...)
//   received_orders highest sender_order seen from each other party (-1 = "no observable contribution")
// "the initial message of a new protocol instance MAY have an empty ({}) ~thread item. Aries agents receiving a
//  message with an empty ~thread item MUST gracefully handle such a message."  -> {} parses to all-null fields.
// Other members (goal_code, ...) are not modelled here; AgentMessage keeps them in its JSON.
using System.Text.Json.Nodes;

namespace Conformance.Wire.Messages;

public sealed record ThreadDecorator(string? Thid, string? Pthid, int? SenderOrder, IReadOnlyDictionary<string, int>? ReceivedOrders)
{
    public const string Field = "~thread";

    /// <summary>True for the empty <c>{}</c> decorator (RFC 0008 says it MUST be handled gracefully).</summary>
    public bool IsEmpty => Thid is null && Pthid is null && SenderOrder is null && ReceivedOrders is null;

    /// <summary>Reads a <c>~thread</c> value; JSON null is treated as absent. Throws <see cref="MessageFormatException"/>.</summary>
    public static ThreadDecorator? FromJson(JsonNode? node)
    {
        if (node is null) return null;
        if (node is not JsonObject o)
            throw new MessageFormatException($"~thread must be an object, got {WireJson.Kind(node)}");

        var thid = OptionalId(o, "thid");
        var pthid = OptionalId(o, "pthid");

        int? senderOrder = null;
        if (o.TryGetPropertyValue("sender_order", out var so) && so is not null)
            senderOrder = WireJson.AsInt(so) ??
                throw new MessageFormatException($"~thread.sender_order must be an integer, got {WireJson.Kind(so)}");

        Dictionary<string, int>? received = null;
        if (o.TryGetPropertyValue("received_orders", out var ro) && ro is not null)
        {
            if (ro is not JsonObject rob)
                throw new MessageFormatException($"~thread.received_orders must be an object, got {WireJson.Kind(ro)}");
            received = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (actor, value) in rob)
                received[actor] = WireJson.AsInt(value) ??
                    throw new MessageFormatException($"~thread.received_orders['{WireJson.Excerpt(actor, 40)}'] must be an integer, got {WireJson.Kind(value)}");
        }

        return new ThreadDecorator(thid, pthid, senderOrder, received);
    }

    /// <summary>The decorator as JSON, omitting absent members.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject();
        if (Thid is not null) o["thid"] = Thid;
        if (Pthid is not null) o["pthid"] = Pthid;
        if (SenderOrder is not null) o["sender_order"] = SenderOrder.Value;
        if (ReceivedOrders is not null)
        {
            var r = new JsonObject();
            foreach (var (k, v) in ReceivedOrders) r[k] = v;
            o["received_orders"] = r;
        }
        return o;
    }

    private static string? OptionalId(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        var s = WireJson.AsString(n) ??
            throw new MessageFormatException($"~thread.{name} must be a string, got {WireJson.Kind(n)}");
        if (s.Length == 0) throw new MessageFormatException($"~thread.{name} must not be empty");
        return s;
    }
}
