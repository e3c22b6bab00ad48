namespace Dclm.Tokenizers;

/// <summary>
/// The fill-in-the-middle tokens a vocabulary declares: prefix, suffix and middle (required for infill), and the
/// optional pad, repository-name and file-separator tokens of repository-level prompts (Qwen2.5-Coder's
/// <c>&lt;|repo_name|&gt;</c> and <c>&lt;|file_sep|&gt;</c>). Each is null when the vocabulary has none.
/// </summary>
/// <remarks>
/// Found as llama.cpp finds them: the ids a GGUF file records (<c>tokenizer.ggml.fim_pre_token_id</c> and its
/// siblings, or the older <c>prefix_token_id</c>, <c>suffix_token_id</c>, <c>middle_token_id</c>) win; a role left
/// open is filled by the first vocabulary entry spelled as one of that role's known spellings (Qwen and StarCoder
/// <c>&lt;|fim_prefix|&gt;</c>, SantaCoder <c>&lt;fim-prefix&gt;</c>, Granite <c>&lt;fim_prefix&gt;</c>, CodeLlama
/// <c>&lt;PRE&gt;</c>, GLM-4.5 <c>&lt;|code_prefix|&gt;</c>, ...).
/// </remarks>
public sealed record FillInMiddleTokens(int? Prefix, int? Suffix, int? Middle, int? Pad = null, int? Repository = null, int? FileSeparator = null)
{
    /// <summary>No fill-in-the-middle tokens at all.</summary>
    public static FillInMiddleTokens None { get; } = new(null, null, null);

    // llama.cpp's llama-vocab.cpp spelling lists, in its order; the first one present wins.
    private static readonly string[] prefixSpellings = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"];
    private static readonly string[] suffixSpellings = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"];
    private static readonly string[] middleSpellings = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"];
    private static readonly string[] padSpellings = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"];
    private static readonly string[] repositorySpellings = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] fileSeparatorSpellings = ["<|file_sep|>"];

    /// <summary>Whether prefix, suffix and middle are all present, so infill prompts can be built.</summary>
    public bool SupportsInfill => Prefix is not null && Suffix is not null && Middle is not null;

    /// <summary>
    /// Why infill cannot be served, in llama-server's words ("Infill is not supported by this model: prefix token is
    /// missing. ..."), naming each missing role; null when <see cref="SupportsInfill"/>.
    /// </summary>
    public string? MissingReason()
    {
        if (SupportsInfill) return null;
        string missing = (Prefix is null ? "prefix token is missing. " : "") + (Suffix is null ? "suffix token is missing. " : "")
            + (Middle is null ? "middle token is missing. " : "");
        return "Infill is not supported by this model: " + missing.TrimEnd();
    }

    /// <summary>
    /// Tokens that end an infill besides end-of-sequence, as llama.cpp's end-of-generation set holds them: the pad,
    /// repository and file-separator tokens (the model moving on to another file).
    /// </summary>
    public int[] EndTokens() => new[] { Pad, Repository, FileSeparator }.OfType<int>().ToArray();

    /// <summary>The declared ids, with every role still open filled by spelling from <paramref name="tryGetId"/>.</summary>
    internal static FillInMiddleTokens Resolve(FillInMiddleTokens? declared, TryGetId tryGetId)
    {
        declared ??= None;
        int? Find(int? given, string[] spellings)
        {
            if (given is not null) return given;
            foreach (string spelling in spellings)
                if (tryGetId(spelling, out int id)) return id;
            return null;
        }
        return new FillInMiddleTokens(
            Find(declared.Prefix, prefixSpellings), Find(declared.Suffix, suffixSpellings), Find(declared.Middle, middleSpellings),
            Find(declared.Pad, padSpellings), Find(declared.Repository, repositorySpellings), Find(declared.FileSeparator, fileSeparatorSpellings));
    }

    internal delegate bool TryGetId(string spelling, out int id);

    /// <summary>The roles' ids that are set, for range checks.</summary>
    internal IEnumerable<(string Role, int Id)> Declared()
    {
        foreach (var (role, id) in new[] { ("prefix", Prefix), ("suffix", Suffix), ("middle", Middle), ("pad", Pad), ("repository", Repository), ("file separator", FileSeparator) })
            if (id is int value) yield return (role, value);
    }
}
