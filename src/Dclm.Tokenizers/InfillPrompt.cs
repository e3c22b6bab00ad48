namespace Dclm.Tokenizers;

/// <summary>One extra file of repository context for an infill prompt: its name (llama-server's default "tmp") and text.</summary>
public sealed record InfillFile(string FileName, string Text);

/// <summary>
/// What an infill prompt is made of: the text before the gap (text, or token ids as a client may send), the text after
/// it, extra files of context, and an optional start of the middle the model continues from.
/// </summary>
public sealed record InfillInput(IReadOnlyList<int> Prefix, IReadOnlyList<int> Suffix, IReadOnlyList<InfillFile> ExtraFiles, IReadOnlyList<int> Middle);

/// <summary>
/// How much of each part an infill prompt keeps, as llama-server decides it: prefix and suffix fit one batch in the ratio
/// 3:1, and the extra files fill what the context has left after a batch and twice the generation budget.
/// </summary>
/// <param name="BatchTokens">llama-server's n_batch.</param>
/// <param name="ContextTokens">The context length (n_ctx).</param>
/// <param name="PredictTokens">The generation budget (n_predict; −1 for unbounded, as llama-server's default).</param>
/// <param name="SuffixFirst">SPM order (llama-server's <c>--spm-infill</c>): suffix before prefix.</param>
public sealed record InfillBudget(int BatchTokens, int ContextTokens, int PredictTokens, bool SuffixFirst = false);

/// <summary>
/// Builds a fill-in-the-middle prompt in the repository-level layout llama-server uses (Qwen2.5-Coder's, arXiv 2409.12186):
/// <code>
/// [REPO]myproject\n [SEP]file0\n text0 ... [SEP]filename\n  (extra context, only what the budget keeps, from its end)
/// [BOS] [PRE] prefix middle [SUF] suffix [MID]                (PSM order; SPM swaps the [PRE] and [SUF] parts)
/// </code>
/// Without a file-separator token each extra file is introduced by "\n\n--- snippet ---\n\n" instead, and the repository
/// line needs the repository token. The repository name and the current file's name are llama-server's fixed
/// "myproject" and "filename". Each text part is tokenized alone, with no special-token parsing.
/// </summary>
public static class InfillPrompt
{
    /// <summary>llama-server's separator for an extra file when the vocabulary has no file-separator token.</summary>
    public const string SnippetSeparator = "\n\n--- snippet ---\n\n";

    /// <summary>llama-server's default n_batch.</summary>
    public const int DefaultBatchTokens = 2048;

    /// <summary>
    /// The budget this project's server and CLI give the layout: a batch of at most 2048 tokens (llama-server's default)
    /// and at most half the context, so prefix (3/4 of the batch), suffix (1/4) and extra files (context − batch −
    /// 2 × <paramref name="predictTokens"/>) leave room to generate. With a context of 4096 or more it is llama-server's.
    /// </summary>
    public static InfillBudget DefaultBudget(int contextTokens, int predictTokens) =>
        new(Math.Min(DefaultBatchTokens, contextTokens / 2), contextTokens, predictTokens);

    /// <summary>
    /// The prompt's ids. A tokenizer without prefix, suffix and middle tokens throws <see cref="NotSupportedException"/>
    /// with llama-server's message naming the missing ones.
    /// </summary>
    public static int[] Build(Tokenizer tokenizer, InfillInput input, InfillBudget budget)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(budget);
        var fim = tokenizer.FillInMiddle;
        if (fim.MissingReason() is { } reason) throw new NotSupportedException(reason);

        var extra = new List<int>();
        if (fim.Repository is int repository)
        {
            extra.Add(repository);
            tokenizer.Encode("myproject\n", extra);
        }
        foreach (var file in input.ExtraFiles)
        {
            if (fim.FileSeparator is int separator)
            {
                extra.Add(separator);
                tokenizer.Encode(file.FileName + "\n", extra);
            }
            else
            {
                tokenizer.Encode(SnippetSeparator, extra);
            }
            tokenizer.Encode(file.Text, extra);
        }
        if (fim.FileSeparator is int current)
        {
            extra.Add(current);
            tokenizer.Encode("filename\n", extra);
        }

        // The prefix keeps its end, the suffix its start; the extra context keeps its end (nearest the gap).
        int prefixTake = Math.Min(input.Prefix.Count, 3 * (budget.BatchTokens / 4));
        int suffixTake = Math.Min(input.Suffix.Count, Math.Max(0, budget.BatchTokens / 4 - (2 + input.Middle.Count)));
        int extraTake = Math.Min(Math.Max(0, budget.ContextTokens - budget.BatchTokens - 2 * budget.PredictTokens), extra.Count);

        var prefixPart = new List<int> { fim.Prefix!.Value };
        prefixPart.AddRange(input.Prefix.Skip(input.Prefix.Count - prefixTake));
        prefixPart.AddRange(input.Middle);
        var suffixPart = new List<int> { fim.Suffix!.Value };
        suffixPart.AddRange(input.Suffix.Take(suffixTake));

        var prompt = new List<int>(extraTake + prefixPart.Count + suffixPart.Count + 2);
        prompt.AddRange(extra.Skip(extra.Count - extraTake));
        // llama-server puts the BOS after the extra context, at the head of the first FIM part.
        tokenizer.AppendSequenceStart(prompt);
        prompt.AddRange(budget.SuffixFirst ? suffixPart : prefixPart);
        prompt.AddRange(budget.SuffixFirst ? prefixPart : suffixPart);
        prompt.Add(fim.Middle!.Value);
        return prompt.ToArray();
    }
}
