using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;

namespace Conformance.Agent.Core;

/// <summary>A public DID of this agent: its DID, the verkey of its key, and the document resolvers get.</summary>
public sealed record PublicDid(string Did, string Verkey, JsonObject Document);

/// <summary>A DID this agent created for one relationship: the DID, its key, its document as sent on the wire.</summary>
public sealed record MyDid(string Did, Ed25519KeyPair Key, JsonObject Document, ServiceRecord Service);

/// <summary>
/// Creates this agent's DID for a new relationship, in the method the protocol (or the harness) asks for:
/// <c>peer:1</c>, <c>peer:2</c>, <c>peer:4</c> (long form), or <c>unqualified</c> (RFC 0160 legacy doc). The service
/// points at this agent's endpoint — or, when mediation is in use, at the mediator's endpoint with its routing keys.
/// </summary>
public static class MyDids
{
    public static MyDid Create(ReferenceAgent agent, string method, ServiceRecord? routedVia = null)
    {
        var key = agent.Wallet.CreateKey();
        var endpoint = routedVia?.Endpoint ?? agent.Endpoint ?? "didcomm:transport/queue";
        var routingKeys = routedVia?.RoutingKeys ?? [];
        var service = new ServiceRecord { RecipientKeys = [key.Verkey], RoutingKeys = [.. routingKeys], Endpoint = endpoint };

        switch (method)
        {
            case "unqualified":
            {
                var did = LegacyDidDoc.UnqualifiedDidFromVerkey(key.Verkey);
                return new MyDid(did, key, LegacyDidDoc.Create(did, key.Verkey, endpoint, routingKeys), service);
            }
            case "peer:2":
            {
                var ed = Multibase.EncodeKey(KeyCodec.Ed25519Pub, key.PublicKey);
                var x = Multibase.EncodeKey(KeyCodec.X25519Pub, key.X25519Public);
                // A did-communication service is what v1 agents read, with the recipient key on the doc's Ed25519 key
                // (#key-1, the first key). A "dm" (DIDCommMessaging) service would make v1 senders encrypt to the X25519 key.
                var svc = new JsonObject
                {
                    ["t"] = "did-communication",
                    ["s"] = endpoint,
                    ["recipientKeys"] = new JsonArray("#key-1"),
                    ["r"] = RoutingArray(routingKeys),
                    ["a"] = new JsonArray("didcomm/aip2;env=rfc19"),
                    ["priority"] = 0,
                };
                var did = DidPeer.Numalgo2([('V', ed), ('E', x)], [svc]);
                var doc = DidPeer.Resolve(did).Json;
                return new MyDid(did, key, doc, service);
            }
            case "peer:1":
            case "peer:4":
            {
                var input = GenesisDocument(key, endpoint, routingKeys);
                if (method == "peer:4")
                {
                    var did = DidPeer.Numalgo4(input);
                    return new MyDid(did, key, DidPeer.Resolve(did).Json, service);
                }
                var did1 = DidPeer.Numalgo1(DidDocument.FromJson(input));
                var doc1 = (JsonObject)input.DeepClone();
                doc1["id"] = did1;
                return new MyDid(did1, key, doc1, service);
            }
            default:
                throw new ArgumentException($"unknown DID method '{method}' (peer:1, peer:2, peer:4, unqualified)");
        }
    }

    private static JsonArray RoutingArray(IEnumerable<string> keys) => new(keys.Select(k => (JsonNode)ToDidKey(k)).ToArray());

    private static string ToDidKey(string key) => key.StartsWith("did:") ? key : DidKey.FromVerkey(key);

    /// <summary>The document behind a did:peer:1 / did:peer:4: an Ed25519 key for authentication and a did-communication service.</summary>
    private static JsonObject GenesisDocument(Ed25519KeyPair key, string endpoint, IEnumerable<string> routingKeys) => new()
    {
        ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2018/v1"),
        ["verificationMethod"] = new JsonArray(new JsonObject
        {
            ["id"] = "#key-1",
            ["type"] = "Ed25519VerificationKey2018",
            ["publicKeyBase58"] = key.Verkey,
        }),
        ["authentication"] = new JsonArray("#key-1"),
        ["service"] = new JsonArray(new JsonObject
        {
            ["id"] = "#didcomm-0",
            ["type"] = "did-communication",
            ["priority"] = 0,
            ["recipientKeys"] = new JsonArray("#key-1"),
            ["routingKeys"] = RoutingArray(routingKeys),
            ["serviceEndpoint"] = endpoint,
            ["accept"] = new JsonArray("didcomm/aip2;env=rfc19"),
        }),
    };
}
