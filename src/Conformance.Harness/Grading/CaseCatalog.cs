using System.Reflection;

namespace Conformance.Harness.Grading;

/// <summary>One case as discovered from its attributes.</summary>
public sealed record CaseInfo(
    string Id, string Rfc, string SuiteTitle, string Section, string Requirement, Level Level,
    string? Description, string? Aath, string? Needs, MethodInfo Method,
    CaseTarget Target = CaseTarget.Agent, string? Counterpart = null, bool RunsAlone = false)
{
    public Task RunAsync(CaseContext c)
    {
        try { return (Task)Method.Invoke(null, [c])!; }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}

/// <summary>Finds the cases of the suite classes in an assembly, in file order, and filters them by suite.</summary>
public static class CaseCatalog
{
    public static IReadOnlyList<CaseInfo> Discover(Assembly assembly)
    {
        var list = new List<CaseInfo>();
        foreach (var type in assembly.GetTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var suite = type.GetCustomAttribute<SuiteAttribute>();
            if (suite == null) continue;
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Static).OrderBy(m => m.MetadataToken))
            {
                var c = m.GetCustomAttribute<CaseAttribute>();
                if (c == null) continue;
                var p = m.GetParameters();
                if (m.ReturnType != typeof(Task) || p.Length != 1 || p[0].ParameterType != typeof(CaseContext))
                    throw new InvalidOperationException($"case {c.Id} ({type.Name}.{m.Name}) must be `public static Task {m.Name}(CaseContext c)`");
                var section = c.Section == null ? suite.Section : suite.Section.Split('#')[0] + "#" + c.Section.TrimStart('#');
                list.Add(new CaseInfo(c.Id, suite.Rfc, suite.Title, section, c.Requirement, c.Level, c.Description, c.Aath, c.Needs, m, suite.Target, c.Counterpart, suite.RunsAlone || c.RunsAlone));
            }
        }
        var dup = list.GroupBy(c => c.Id).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new InvalidOperationException($"case id {dup.Key} is used twice");
        return list;
    }

    /// <summary>
    /// Keeps the cases of the named suites (e.g. "RFC0160,RFC0023"), case ids, or case id prefixes ("BROWSER" keeps
    /// every BROWSER-… case); null or empty = all.
    /// </summary>
    public static IReadOnlyList<CaseInfo> Filter(IReadOnlyList<CaseInfo> cases, string? suites)
    {
        if (string.IsNullOrWhiteSpace(suites)) return cases;
        var wanted = suites.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return cases.Where(c => wanted.Contains(c.Rfc) || wanted.Contains(c.Id)
                                || wanted.Any(w => c.Id.StartsWith(w + "-", StringComparison.OrdinalIgnoreCase))).ToList();
    }
}
