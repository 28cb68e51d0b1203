namespace Conformance.Suites;

/// <summary>Marker type: <c>typeof(SuitesAssembly).Assembly</c> is where the case catalog is discovered.</summary>
public static class SuitesAssembly
{
    public static System.Reflection.Assembly Assembly => typeof(SuitesAssembly).Assembly;
}
