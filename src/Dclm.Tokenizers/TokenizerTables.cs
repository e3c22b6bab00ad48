namespace Dclm.Tokenizers;

/// <summary>
/// The lookup structures derived from a <see cref="TokenizerVocabulary"/>: text → id, merge rules by id
/// pair, byte-fallback ids. Building them is where a vocabulary's cross references are validated.
/// </summary>
internal sealed class TokenizerTables
{
    private TokenizerTables(Dictionary<string, int> tokenToId, MergeTable merges, ByteTokenTable byteTokens, RegexPreTokenizer? customSplit)
    {
        TokenToId = tokenToId;
        Merges = merges;
        ByteTokens = byteTokens;
        CustomSplit = customSplit;
    }

    /// <summary>Piece text → id; when a text repeats (some GGUF vocabularies pad with duplicates) the first id wins.</summary>
    public Dictionary<string, int> TokenToId { get; }

    public MergeTable Merges { get; }

    public ByteTokenTable ByteTokens { get; }

    /// <summary>The split of a <see cref="PreTokenizerKind.Regex"/> vocabulary, its engine chosen and checked.</summary>
    public RegexPreTokenizer? CustomSplit { get; }

    /// <summary>
    /// Builds the tables, or throws <see cref="VocabularyProblemException"/> describing the first inconsistency;
    /// <paramref name="source"/> names the vocabulary's file in errors raised later, while tokenizing.
    /// </summary>
    public static TokenizerTables Build(TokenizerVocabulary vocabulary, string source)
    {
        string? problem = vocabulary.FindProblem();
        if (problem is not null)
        {
            throw new VocabularyProblemException(problem);
        }
        var customSplit = vocabulary.PreTokenizer == PreTokenizerKind.Regex
            ? RegexPreTokenizer.Create(vocabulary.PreTokenizerPattern!, source)
            : null;
        var tokens = vocabulary.Tokens;
        var tokenToId = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int id = 0; id < tokens.Count; id++)
        {
            tokenToId.TryAdd(tokens[id], id);
        }

        var rules = MergeTable.CreatePairDictionary<MergeResult>(vocabulary.Merges.Count);
        for (int rank = 0; rank < vocabulary.Merges.Count; rank++)
        {
            var merge = vocabulary.Merges[rank];
            if (merge.Left is null || merge.Right is null)
            {
                throw new VocabularyProblemException($"merge rule {rank} is incomplete");
            }
            int left = LookUp(tokenToId, merge, rank, merge.Left);
            int right = LookUp(tokenToId, merge, rank, merge.Right);
            string merged = merge.Left + merge.Right;
            if (!tokenToId.TryGetValue(merged, out int mergedId))
            {
                throw new VocabularyProblemException($"merge rule {rank} '{merge}' makes '{merged}', which is not in the vocabulary");
            }
            // A repeated rule keeps its first (highest priority) rank, as llama.cpp does.
            rules.TryAdd(MergeTable.Key(left, right), new MergeResult(rank, mergedId));
        }
        return new TokenizerTables(tokenToId, new MergeTable(rules), new ByteTokenTable(tokenToId, vocabulary.UnknownId), customSplit);
    }

    private static int LookUp(Dictionary<string, int> tokenToId, MergePair merge, int rank, string side)
    {
        if (!tokenToId.TryGetValue(side, out int id))
        {
            throw new VocabularyProblemException($"merge rule {rank} '{merge}' names '{side}', which is not in the vocabulary");
        }
        return id;
    }
}

/// <summary>An inconsistent vocabulary; loaders turn it into a file error, the public constructor into an argument error.</summary>
internal sealed class VocabularyProblemException(string problem) : Exception(problem);
