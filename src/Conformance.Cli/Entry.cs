namespace Conformance.Cli;

public static class Entry
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("conformance: no verbs yet");
        return 2;
    }
}
