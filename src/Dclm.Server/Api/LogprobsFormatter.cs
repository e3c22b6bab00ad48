using Dclm.Inference;
using Dclm.Tokenizers;

namespace Dclm.Server.Api;

/// <summary>
/// Per-token log-probabilities in OpenAI's two shapes: the legacy completions lists (with character
/// offsets into the choice's text) and chat's content entries (with UTF-8 bytes, since one token may
/// hold part of a character).
/// </summary>
internal sealed class LogprobsFormatter(Tokenizer tokenizer)
{
    private string Text(int id) => tokenizer.Decode([id]);

    private List<int> Bytes(int id)
    {
        var bytes = tokenizer.TokenBytes(id);
        var list = new List<int>(bytes.Length);
        foreach (byte b in bytes) list.Add(b);
        return list;
    }

    /// <summary>Completions' lists for <paramref name="tokens"/>; <paramref name="offset"/> is the character offset of the first and advances past the last.</summary>
    public CompletionLogprobsDto Completion(IReadOnlyList<int> tokens, IReadOnlyList<TokenLogprobs?> logprobs, ref int offset) =>
        Append(new CompletionLogprobsDto(), tokens, logprobs, ref offset);

    /// <summary>Adds <paramref name="tokens"/> to <paramref name="dto"/>; a null entry (an echoed prompt's first token) gets null lists.</summary>
    public CompletionLogprobsDto Append(CompletionLogprobsDto dto, IReadOnlyList<int> tokens, IReadOnlyList<TokenLogprobs?> logprobs, ref int offset)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            string text = Text(tokens[i]);
            dto.Tokens.Add(text);
            dto.TextOffset.Add(offset);
            offset += text.Length;
            if (logprobs[i] is not { } entry)
            {
                dto.TokenLogprobs.Add(null);
                dto.TopLogprobs.Add(null);
                continue;
            }
            dto.TokenLogprobs.Add(entry.Logprob);
            var top = new Dictionary<string, float>();
            // Two ids may decode alike (partial characters); the likelier one keeps the entry.
            foreach (var alternative in entry.Top) top.TryAdd(Text(alternative.TokenId), alternative.Logprob);
            dto.TopLogprobs.Add(top);
        }
        return dto;
    }

    /// <summary>Chat's content entries for <paramref name="tokens"/>.</summary>
    public ChatLogprobsDto Chat(IReadOnlyList<int> tokens, IReadOnlyList<TokenLogprobs> logprobs)
    {
        var dto = new ChatLogprobsDto();
        for (int i = 0; i < tokens.Count; i++)
        {
            dto.Content.Add(new ChatTokenLogprobDto
            {
                Token = Text(tokens[i]), Logprob = logprobs[i].Logprob, Bytes = Bytes(tokens[i]),
                TopLogprobs = logprobs[i].Top.Select(a => new ChatTokenLogprobDto { Token = Text(a.TokenId), Logprob = a.Logprob, Bytes = Bytes(a.TokenId) }).ToList(),
            });
        }
        return dto;
    }
}
