using System.Text.Json;
using Dclm.Tokenizers;

namespace Dclm.TestSupport;

/// <summary>
/// One case of <c>infill-prompts.json</c>: an /infill request, llama-server's budget, and the prompt llama-server builds
/// for it, as segments written by hand from its <c>format_prompt_infill</c> (see the file's "source").
/// </summary>
public sealed record InfillFixture(string Name, JsonElement Request, InfillBudget Budget, IReadOnlyList<JsonElement> Expected)
{
    /// <summary>The fixture file; test projects link it into their output's fixtures folder.</summary>
    public static string FilePath => Path.Combine(AppContext.BaseDirectory, "fixtures", "infill-prompts.json");

    public static IReadOnlyList<InfillFixture> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(FilePath));
        return document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new InfillFixture(
            c.GetProperty("name").GetString()!, c.Clone(),
            new InfillBudget(c.GetProperty("n_batch").GetInt32(), c.GetProperty("n_ctx").GetInt32(), c.GetProperty("n_predict").GetInt32(), c.GetProperty("spm_infill").GetBoolean()),
            c.GetProperty("expected").EnumerateArray().Select(e => e.Clone()).ToArray())).ToArray();
    }

    public string Prefix => Request.GetProperty("input_prefix").GetString()!;
    public string Suffix => Request.GetProperty("input_suffix").GetString()!;
    public string Prompt => Request.TryGetProperty("prompt", out var p) ? p.GetString()! : "";

    public IReadOnlyList<InfillFile> ExtraFiles => Request.TryGetProperty("input_extra", out var extra)
        ? extra.EnumerateArray().Select(f => new InfillFile(f.TryGetProperty("filename", out var n) ? n.GetString()! : "tmp", f.GetProperty("text").GetString()!)).ToArray()
        : [];

    /// <summary>The expected ids: FIM tokens by role from <paramref name="tokenOf"/>, text from <paramref name="tokenize"/>(text, parseSpecial).</summary>
    public int[] ExpectedIds(Func<string, int> tokenOf, Func<string, bool, int[]> tokenize)
    {
        var ids = new List<int>();
        foreach (var segment in Expected)
        {
            if (segment.TryGetProperty("token", out var role))
            {
                ids.Add(tokenOf(role.GetString()!));
                continue;
            }
            bool special = segment.TryGetProperty("parse_special", out var ps) && ps.GetBoolean();
            int[] text = tokenize(segment.GetProperty("text").GetString()!, special);
            if (segment.TryGetProperty("last", out var last)) text = text[^Math.Min(last.GetInt32(), text.Length)..];
            if (segment.TryGetProperty("first", out var first)) text = text[..Math.Min(first.GetInt32(), text.Length)];
            ids.AddRange(text);
        }
        return ids.ToArray();
    }

    /// <summary>The expected ids with our tokenizer's FIM tokens and encoder.</summary>
    public int[] ExpectedIds(Tokenizer tokenizer) => ExpectedIds(role => Role(tokenizer.FillInMiddle, role), (text, special) => tokenizer.Encode(text, parseSpecialTokens: special));

    /// <summary>The input as <see cref="InfillPrompt"/> takes it, tokenized with <paramref name="tokenizer"/>.</summary>
    public InfillInput Input(Tokenizer tokenizer) =>
        new(tokenizer.Encode(Prefix), tokenizer.Encode(Suffix), ExtraFiles, tokenizer.Encode(Prompt, parseSpecialTokens: true));

    public static int Role(FillInMiddleTokens fim, string role) => role switch
    {
        "prefix" => fim.Prefix, "suffix" => fim.Suffix, "middle" => fim.Middle, "repository" => fim.Repository, "file_separator" => fim.FileSeparator,
        _ => throw new ArgumentException($"unknown FIM role '{role}'"),
    } ?? throw new ArgumentException($"the tokenizer has no {role} token");

    public override string ToString() => Name;
}
