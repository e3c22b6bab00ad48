using Dclm.Checkpoints;
using Dclm.Inference.Engine;
using Dclm.Chat;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Cli.Commands;

/// <summary>The model's chat template (the server's renderer: its Jinja template or a recognised format) as the fine-tuning data loader sees it.</summary>
internal sealed class TemplateChatRenderer : IChatRenderer
{
    private readonly ChatTemplate _template;

    private TemplateChatRenderer(ChatTemplate template, IReadOnlyList<string> endMarkers)
    {
        _template = template;
        EndOfTurnMarkers = endMarkers;
    }

    /// <summary>The renderer of <paramref name="model"/>'s template, as the server would recognise it.</summary>
    public static TemplateChatRenderer For(LoadedModel model)
    {
        var tokenizer = model.RequireTokenizer();
        string SpecialText(int? id) => id is int value ? tokenizer.TokenText(value) : "";
        string bos = SpecialText(tokenizer.BeginningOfSequenceId), eos = SpecialText(tokenizer.EndOfSequenceId);
        var template = ChatTemplate.Recognise(ChatTemplateLoader.Read(model.Path), bos, eos);
        var markers = template.EndOfTurnTokens.Concat(eos.Length > 0 ? [eos] : []).ToArray();
        return new TemplateChatRenderer(template, markers);
    }

    public IReadOnlyList<string> EndOfTurnMarkers { get; }

    public bool WritesBeginningOfSequence => _template.WritesBeginningOfSequence;

    public IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages)
    {
        try
        {
            return _template.Segments(messages.Select(m => new ChatTurn(m.Role, m.Content)).ToList()).Select(s => new ChatSegment(s.Text, s.IsMarkup)).ToList();
        }
        catch (RequestValidationException e) { throw new FormatException(e.Message, e); }
    }
}
