using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Fixtures;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Signatures;

namespace Conformance.Harness.Tests;

/// <summary>
/// Realistic transcripts for the fixture and report tests, shaped after the RFC examples: RFC 0434 invitation,
/// RFC 0023 request/response with a signed did_doc~attach (RFC 0017 JWS, made with Conformance.Wire's AttachmentJws),
/// RFC 0160 response with connection~sig (RFC 0234, SignatureDecorator). Every volatile value (keys, ids, times,
/// ports) comes from <paramref name="seed"/>, so two seeds give two transcripts that differ only in volatile values.
/// </summary>
public static class Transcripts
{
    public const string DidExchange = "https://didcomm.org/didexchange/1.1/";

    public static List<FixtureMessage> DidExchangeFlow(string seed, int port, DateTimeOffset time, string label = "Bob")
    {
        var ids = Entropy.Seeded(seed, "ids");
        var aut = Ed25519KeyPair.Generate(Entropy.Seeded(seed, "aut"));
        var peer = Ed25519KeyPair.Generate(Entropy.Seeded(seed, "peer"));
        var invitationId = ids.NewUuid();
        var requestId = ids.NewUuid();
        var responseId = ids.NewUuid();
        var autDidKey = "did:key:" + Multibase.EncodeKey(KeyCodec.Ed25519Pub, aut.PublicKey);
        var peerDid = "did:peer:4zQm" + Base58.Encode(ids.Bytes(32));
        var autDid = "did:peer:4zQm" + Base58.Encode(ids.Bytes(32));

        var invitation = new JsonObject
        {
            ["@type"] = "https://didcomm.org/out-of-band/1.1/invitation",
            ["@id"] = invitationId,
            ["label"] = "AUT",
            ["handshake_protocols"] = new JsonArray("https://didcomm.org/didexchange/1.1"),
            ["services"] = new JsonArray(new JsonObject
            {
                ["id"] = "#inline",
                ["type"] = "did-communication",
                ["recipientKeys"] = new JsonArray(autDidKey),
                ["serviceEndpoint"] = $"http://127.0.0.1:{port}/didcomm",
            }),
        };
        var request = new JsonObject
        {
            ["@id"] = requestId,
            ["@type"] = DidExchange + "request",
            ["~thread"] = new JsonObject { ["thid"] = requestId, ["pthid"] = invitationId },
            ["label"] = label,
            ["did"] = peerDid,
            ["did_doc~attach"] = SignedDoc(peerDid, peer, port + 1, ids),
            ["~timing"] = new JsonObject { ["out_time"] = time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ") },
        };
        var response = new JsonObject
        {
            ["@type"] = DidExchange + "response",
            ["@id"] = responseId,
            ["~thread"] = new JsonObject { ["thid"] = requestId, ["pthid"] = invitationId },
            ["did"] = autDid,
            ["did_doc~attach"] = SignedDoc(autDid, aut, port, ids),
        };
        var complete = new JsonObject
        {
            ["@type"] = DidExchange + "complete",
            ["@id"] = ids.NewUuid(),
            ["~thread"] = new JsonObject { ["thid"] = requestId, ["pthid"] = invitationId },
        };
        return
        [
            new(FixtureDirection.AutToPeer, invitation),
            new(FixtureDirection.PeerToAut, request),
            new(FixtureDirection.AutToPeer, response),
            new(FixtureDirection.PeerToAut, complete),
        ];
    }

    /// <summary>An RFC 0023 did_doc~attach: the DID document as base64 JSON, signed with an RFC 0017 JWS.</summary>
    public static JsonObject SignedDoc(string did, Ed25519KeyPair key, int port, Entropy ids)
    {
        var doc = new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1"),
            ["id"] = did,
            ["verificationMethod"] = new JsonArray(new JsonObject
            {
                ["id"] = did + "#key-1",
                ["type"] = "Ed25519VerificationKey2018",
                ["controller"] = did,
                ["publicKeyBase58"] = key.Verkey,
            }),
            ["authentication"] = new JsonArray(did + "#key-1"),
            ["service"] = new JsonArray(new JsonObject
            {
                ["id"] = did + "#didcomm-0",
                ["type"] = "did-communication",
                ["recipientKeys"] = new JsonArray(did + "#key-1"),
                ["serviceEndpoint"] = $"http://127.0.0.1:{port}",
            }),
        };
        var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(doc.ToJsonString()));
        return new JsonObject
        {
            ["@id"] = ids.NewUuid(),
            ["mime-type"] = "application/json",
            ["data"] = new JsonObject { ["base64"] = base64, ["jws"] = AttachmentJws.Sign(base64, key) },
        };
    }

    /// <summary>An RFC 0160 connections/1.0 response with connection~sig (RFC 0234) over an RFC 0160-style DIDDoc.</summary>
    public static JsonObject ConnectionResponse(string seed, string requestId, DateTimeOffset time)
    {
        var key = Ed25519KeyPair.Generate(Entropy.Seeded(seed, "conn"));
        var did = Base58.Encode(Entropy.Seeded(seed, "did").Bytes(16));   // RFC 0160: unqualified 16-byte DID
        var connection = new JsonObject
        {
            ["DID"] = did,
            ["DIDDoc"] = new JsonObject
            {
                ["@context"] = "https://w3id.org/did/v1",
                ["id"] = "did:sov:" + did,
                ["publicKey"] = new JsonArray(new JsonObject
                {
                    ["id"] = did + "#1",
                    ["type"] = "Ed25519VerificationKey2018",
                    ["controller"] = did,
                    ["publicKeyBase58"] = key.Verkey,
                }),
            },
        };
        return new JsonObject
        {
            ["@type"] = "https://didcomm.org/connections/1.0/response",
            ["@id"] = Entropy.Seeded(seed, "rid").NewUuid(),
            ["~thread"] = new JsonObject { ["thid"] = requestId },
            ["connection~sig"] = SignatureDecorator.Sign(connection, key, time),
        };
    }
}
