// conformance connection fingerprint: the MITM comparison codes of the Indy HIPE (seed 004) over a pair of DID
// documents, so that two people can compare a few characters out of band (src/Conformance.Agent/Connections/MitmCheck.cs
// holds the precise definition).
using System.Text.Json.Nodes;
using Conformance.Agent.Connections;

namespace Conformance.Cli.Verbs;

public static class ConnectionVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("connection fingerprint", "Compute the man-in-the-middle comparison codes (sum and product of the two DID documents' hashes).",
            "DOC_A DOC_B", 2, 2, [], Fingerprint,
            """
            DOC_A and DOC_B are the two DID documents of a connection (files, or - for one of them on stdin), in any
            order: both sides get the same codes. The invitee reads out the sum, the inviter the product.

            example:
              conformance connection fingerprint my-did-doc.json their-did-doc.json
            """),
    ];

    private static Task<int> Fingerprint(Invocation inv)
    {
        var a = Invocation.ParseObject(inv.ReadInput(inv.Args.Arg(0), "the first DID document"), "the first DID document");
        var b = Invocation.ParseObject(inv.ReadInput(inv.Args.Arg(1), "the second DID document"), "the second DID document");
        var codes = MitmCheck.Compute(a, b);
        var (sum, product) = MitmCheck.ComputeValues(a, b);
        inv.WriteJson(new JsonObject
        {
            ["sum"] = codes.Sum,
            ["product"] = codes.Product,
            ["sum_hex"] = sum.ToString("x64").TrimStart('0').PadLeft(64, '0')[^64..],
            ["product_hex"] = product.ToString("x64").TrimStart('0').PadLeft(64, '0')[^64..],
            ["definition"] = "SHA-256 of each document's RFC 8785 canonical JSON as unsigned 256-bit integers; sum and product mod 2^256; first 6 Crockford base32 characters",
        });
        return Task.FromResult(Entry.ExitOk);
    }
}
