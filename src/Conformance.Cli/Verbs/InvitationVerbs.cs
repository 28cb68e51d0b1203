// conformance invitation decode <url|json|->
// Decodes RFC 0160 (c_i), RFC 0434 (oob) and legacy d_m invitation URLs, padded or not (InvitationUrl.Decode does
// the work and the tolerance), and summarises what a connecting agent needs from the invitation:
//   RFC 0160 connections/1.0 invitation: recipientKeys, serviceEndpoint, routingKeys — or a public "did".
//   RFC 0434 out-of-band invitation: services[] (inline service blocks or DIDs), handshake_protocols,
//   requests~attach ("One or both of handshake_protocols and requests~attach MUST be included").
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Wire.Invitations;
using Conformance.Wire.Messages;

namespace Conformance.Cli.Verbs;

public static class InvitationVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("invitation decode",
            "Decode a c_i / oob / d_m invitation URL (or raw invitation JSON) and summarise it.",
            "<url|json|->", 1, 1, [], Decode,
            """
            The argument is an invitation URL (base64url or base64, padded or not, '=' possibly escaped as %3D),
            a raw JSON invitation, or '-' to read either from stdin. Prints
            {"parameter", "padded", "base_url", "invitation", "summary"}; parameter and base_url are null for JSON.

            example:
              conformance invitation decode 'http://example.com/ssi?c_i=eyJAdHlwZSI6...'
            """),
    ];

    private static Task<int> Decode(Invocation inv)
    {
        var arg = inv.Args.Arg(0)!;
        var input = arg == "-" ? inv.ReadInput("-", "the invitation") : arg;
        var decoded = InvitationUrl.Decode(input);

        var result = new JsonObject
        {
            ["parameter"] = decoded.Parameter is { } p ? InvitationUrl.ParameterName(p) : null,
            ["padded"] = decoded.WasPadded,
            ["base_url"] = decoded.BaseUrl,
            ["invitation"] = decoded.Message.DeepClone(),
            ["summary"] = Summarize(decoded),
        };
        inv.WriteJson(result);
        return Task.FromResult(Entry.ExitOk);
    }

    /// <summary>The parts of an invitation an agent acts on, in one shape for both protocols.</summary>
    internal static JsonObject Summarize(DecodedInvitation decoded)
    {
        var m = decoded.Message;
        var notes = new List<string>();
        var type = Str(m, "@type");
        MessageType.TryParse(type, out var mt);
        if (type is null) notes.Add("the invitation has no @type");
        else if (mt is null) notes.Add("@type is not a valid DIDComm message type URI");

        var recipientKeys = new List<string>();
        var routingKeys = new List<string>();
        var endpoints = new List<string>();
        var dids = new List<string>();

        // RFC 0160 shape (also what a service block of RFC 0434 looks like).
        Collect(m, recipientKeys, routingKeys, endpoints);
        if (Str(m, "did") is { } publicDid) dids.Add(publicDid);

        // RFC 0434 services: "an array of union types: a DID (string) or an inline service block (object)".
        if (m["services"] is JsonArray services)
        {
            foreach (var s in services)
            {
                if (s is JsonObject block) Collect(block, recipientKeys, routingKeys, endpoints);
                else if (AsString(s) is { } did) dids.Add(did);
            }
        }
        else if (m.ContainsKey("services"))
        {
            notes.Add("services is not an array");
        }

        var handshakes = Strings(m, "handshake_protocols");
        var attachments = m["requests~attach"] is JsonArray a ? a.Count : 0;

        if (mt is not null && mt.Protocol == "out-of-band")
        {
            if (handshakes.Count == 0 && attachments == 0)
                notes.Add("RFC 0434: one or both of handshake_protocols and requests~attach MUST be included");
            if (decoded.Parameter == InvitationParameter.OutOfBand && decoded.WasPadded)
                notes.Add("RFC 0434: the oob payload SHOULD NOT use padding (decoders must accept it)");
        }
        if (recipientKeys.Count == 0 && dids.Count == 0)
            notes.Add("no recipient keys and no DID: there is nothing to connect to");

        var summary = new JsonObject
        {
            ["type"] = type,
            ["id"] = Str(m, "@id"),
            ["label"] = Str(m, "label"),
        };
        if (Str(m, "goal_code") is { } goalCode) summary["goal_code"] = goalCode;
        if (Str(m, "goal") is { } goal) summary["goal"] = goal;
        summary["recipient_keys"] = Array(recipientKeys);
        summary["routing_keys"] = Array(routingKeys);
        summary["endpoints"] = Array(endpoints);
        if (dids.Count > 0) summary["dids"] = Array(dids);
        summary["handshake_protocols"] = Array(handshakes);
        if (attachments > 0) summary["requests_attach"] = attachments;
        if (notes.Count > 0) summary["notes"] = Array(notes);
        return summary;
    }

    private static void Collect(JsonObject o, List<string> recipientKeys, List<string> routingKeys, List<string> endpoints)
    {
        AddDistinct(recipientKeys, Strings(o, "recipientKeys"));
        AddDistinct(routingKeys, Strings(o, "routingKeys"));
        switch (o["serviceEndpoint"])
        {
            case JsonValue v when AsString(v) is { } uri:
                AddDistinct(endpoints, [uri]);
                break;
            case JsonObject e when Str(e, "uri") is { } uri:   // DIDComm v2 style endpoint object
                AddDistinct(endpoints, [uri]);
                break;
            case JsonArray arr:
                AddDistinct(endpoints, arr.Select(AsString).OfType<string>().ToList());
                break;
        }
    }

    private static void AddDistinct(List<string> list, IEnumerable<string> items)
    {
        foreach (var i in items)
            if (!list.Contains(i))
                list.Add(i);
    }

    private static string? AsString(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static string? Str(JsonObject o, string name) => AsString(o[name]);

    private static List<string> Strings(JsonObject o, string name) => o[name] switch
    {
        JsonArray a => a.Select(AsString).OfType<string>().ToList(),
        JsonValue v when AsString(v) is { } s => [s],
        _ => [],
    };

    private static JsonArray Array(IEnumerable<string> items) => new(items.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
}
