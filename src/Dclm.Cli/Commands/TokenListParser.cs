namespace Dclm.Cli.Commands;

/// <summary>Parses "1 2 3" (spaces or commas) into token ids.</summary>
internal static class TokenListParser
{
    public static int[] Parse(string text, string option)
    {
        var parts = text.Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out ids[i]) || ids[i] < 0)
                throw new ArgumentException($"{option}: '{parts[i]}' is not a token id");
        if (ids.Length == 0) throw new ArgumentException($"{option}: no token ids given");
        return ids;
    }
}
