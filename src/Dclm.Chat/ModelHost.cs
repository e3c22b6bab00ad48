using Dclm.Chat;
using Dclm.Chat.Tools;
using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Inference.Constraints;
using Dclm.Inference.Engine;
using Dclm.Inference.Speculation;
using Dclm.Models.Adapters;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;

namespace Dclm.Chat;

/// <summary>
/// Owns the loaded model, its tokenizer, chat template, the LoRA adapters served beside it and the engine. Loading runs
/// in the background so the server answers /health with 503 until it is done. Clients pick the base or an adapter by
/// model name (<see cref="ResolveModel"/>).
/// </summary>
public sealed class ModelHost : IDisposable
{
    private readonly ModelHostOptions _options;
    private ComputePool? _pool;
    private LoadedModel? _loaded;
    private LoadedModel? _draft;
    // What the engine runs: the loaded CPU model, or its copy on the options' device.
    private Dclm.Models.IDecoderModel? _runner;
    private AdapterSet? _adapters;
    private readonly Dictionary<string, string> _adapterPaths = [];
    private volatile InferenceEngine? _engine;

    /// <summary>Starts loading the model described by <paramref name="options"/>.</summary>
    public ModelHost(ModelHostOptions options)
    {
        _options = options;
        ModelId = options.ModelName ?? DefaultName(options.ModelPath);
        Loading = Task.Run(Load);
    }

    /// <summary>The name clients pass as "model" for the base.</summary>
    public string ModelId { get; }
    /// <summary>Completes when the model is loaded (or faults with the load error).</summary>
    public Task Loading { get; }
    /// <summary>The engine once loaded, else null.</summary>
    public InferenceEngine? Engine => _engine;
    /// <summary>
    /// The CPU model, once loaded (for work beside generation, such as embeddings; steps are serialised by the model). The
    /// engine runs it, or its copy on a device (<see cref="ModelHostOptions.Device"/>), which shares its weights' values.
    /// </summary>
    public Dclm.Models.DecoderModel? Model => _engine is null ? null : _loaded?.Model;
    /// <summary>Where the weights were put (copied or mapped) and why, once loaded.</summary>
    public WeightResidence? Residence => _loaded?.Residence;
    /// <summary>The tokenizer once loaded.</summary>
    public Tokenizer? Tokenizer { get; private set; }
    /// <summary>The recognised chat template once loaded.</summary>
    public ChatTemplate Template { get; private set; } = ChatTemplate.Plain;
    private ChatTemplate? _toolUseTemplate;

    /// <summary>
    /// The template a request renders with: the model's "tool_use" template when it has one and the request
    /// offers tools (as transformers chooses), else <see cref="Template"/>.
    /// </summary>
    public ChatTemplate TemplateFor(IReadOnlyList<ToolDefinition>? tools) => tools is not null && _toolUseTemplate is not null ? _toolUseTemplate : Template;

    /// <summary>The load error, if loading failed.</summary>
    public string? LoadError { get; private set; }

    /// <summary>
    /// What loading had to settle for, to be logged and shown: a chat template that cannot be rendered and the built-in
    /// layout that replaces it. Empty when the model's templates are used as they are.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; private set; } = [];

    private void Load()
    {
        try
        {
            _pool = new ComputePool(_options.Threads > 0 ? _options.Threads : Environment.ProcessorCount);
            _loaded = ModelLoader.Load(_options.ModelPath, _pool, _options.WeightLoading);
            Tokenizer = _loaded.RequireTokenizer();
            string SpecialText(int? id) => id is int value ? Tokenizer.TokenText(value) : "";
            string bos = SpecialText(Tokenizer.BeginningOfSequenceId), eos = SpecialText(Tokenizer.EndOfSequenceId);
            var warnings = new List<string>();
            Template = ChatTemplate.Recognise(ChatTemplateLoader.Read(_options.ModelPath), bos, eos);
            if (Template.Fallback is { } fallback) warnings.Add(Refuse($"{_options.ModelPath}: {fallback}"));
            var toolUse = ChatTemplate.Recognise(ChatTemplateLoader.Read(_options.ModelPath, ChatTemplateLoader.ToolUse), bos, eos);
            _toolUseTemplate = toolUse.Kind == ChatTemplateKind.Jinja ? toolUse : null;
            if (toolUse.Fallback is { } toolFallback)
                warnings.Add(Refuse($"{_options.ModelPath}: the \"tool_use\" {toolFallback[4..]}; requests with tools use the default template instead"));
            Warnings = warnings;
            if (_options.Adapters.Count > 0 || _options.AllowAdapterLoading)
            {
                _adapters = new AdapterSet(_loaded.Model);
                foreach (var source in _options.Adapters) AddAdapter(source);
            }
            var engine = _options.Engine;
            if (engine.ContextLength > _loaded.Config.ContextLength) engine = engine with { ContextLength = _loaded.Config.ContextLength };
            if (_options.DraftModelPath is { } draftPath) engine = engine with { DraftModel = LoadDraft(draftPath) };
            _runner = _options.Device?.Invoke(_loaded.Model) ?? _loaded.Model;
            if (_adapters is not null && !ReferenceEquals(_runner, _loaded.Model))
            {
                // The device model keeps its own copy of each adapter, handed over by the set as adapters are added.
                if (_runner is not IAdapterRunner runner) throw new NotSupportedException("the model's device does not run LoRA adapters; serve them without a device");
                runner.UseAdapters(_adapters);
            }
            _engine = new InferenceEngine(_runner, Tokenizer, engine, _adapters);
        }
        catch (Exception e)
        {
            LoadError = e.Message;
            throw;
        }
    }

    /// <summary>Loads the draft model and checks that it spells the model's tokens as the model does.</summary>
    private Dclm.Models.DecoderModel LoadDraft(string path)
    {
        try
        {
            _draft = ModelLoader.Load(path, _pool!, _options.WeightLoading);
            DraftModelSource.RequireSharedVocabulary(Tokenizer!, _draft.RequireTokenizer());
            return _draft.Model;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"draft model {path}: {e.Message}", e);
        }
    }

    /// <summary>A template the engine cannot render is an error when the options ask for strictness; else the warning is returned.</summary>
    private string Refuse(string problem) =>
        _options.StrictChatTemplate ? throw new ChatTemplateException(problem + " (--strict-chat-template refuses to start with it)") : problem;

    /// <summary>
    /// What serves the model's chats, in words: its own template (and how tool calls are read) or a built-in layout.
    /// </summary>
    public string DescribeTemplate()
    {
        static string Describe(ChatTemplate template) => template.ToolFormat is { } format
            ? $"its Jinja chat template (tool calls read as {format.Name}{(format.ShowsTools ? "" : "; the template does not show tools to the model")})"
            : template.Fallback is not null ? $"the built-in {template.Kind} layout in place of its chat template"
            : template.Kind == ChatTemplateKind.Plain ? "the plain User:/Assistant: layout (no chat template)" : $"the built-in {template.Kind} layout";
        string text = Describe(Template);
        return _toolUseTemplate is { } toolUse ? $"{text}; with tools, {Describe(toolUse)}" : text;
    }

    /// <summary>Every model name clients may pass: the base (no parent, no path), then each adapter with its base and directory.</summary>
    public IReadOnlyList<(string Name, string? Parent, string? Path)> Models
    {
        get
        {
            var list = new List<(string, string?, string?)> { (ModelId, null, null) };
            if (_adapters is { } adapters)
                lock (_adapterPaths)
                    foreach (string name in adapters.Names) list.Add((name, ModelId, _adapterPaths[name]));
            return list;
        }
    }

    /// <summary>
    /// The adapter id a request's model name selects: 0 for the base (its name, or no name), an adapter's id for its
    /// name, null for a name this host does not serve.
    /// </summary>
    public int? ResolveModel(string? model)
    {
        if (string.IsNullOrEmpty(model) || model == ModelId) return 0;
        int id = _adapters?.Find(model) ?? 0;
        return id > 0 ? id : null;
    }

    /// <summary>
    /// Loads the PEFT adapter in <paramref name="path"/> and serves it as <paramref name="name"/> from now on. Throws
    /// <see cref="InvalidOperationException"/> when loading at run time is off or the model is not loaded,
    /// <see cref="ArgumentException"/> for a bad or taken name, and <see cref="Formats.ModelFileException"/> naming the file
    /// for an adapter that is missing, malformed or made for another model.
    /// </summary>
    public int LoadAdapter(string name, string path)
    {
        if (!_options.AllowAdapterLoading) throw new InvalidOperationException("loading adapters at run time is off (start the server with --allow-lora-loading)");
        if (_engine is null) throw new InvalidOperationException("the model is still loading");
        return AddAdapter(new AdapterSource(name, path));
    }

    private int AddAdapter(AdapterSource source)
    {
        if (source.Name == ModelId) throw new ArgumentException($"'{source.Name}' is the base model's name; give the adapter another");
        lock (_adapterPaths)
        {
            int id = PeftAdapter.Load(_adapters!, source.Name, source.Path);
            _adapterPaths[source.Name] = source.Path;
            return id;
        }
    }

    /// <summary>
    /// The prompt a chat request renders to, as text (what <c>/apply-template</c> shows): the template <see cref="TemplateFor"/>
    /// picks, at the time of the host's clock, as <see cref="EncodeChat"/> renders it.
    /// </summary>
    public string RenderChat(IReadOnlyList<ChatTurn> messages, IReadOnlyList<ToolDefinition>? tools = null) =>
        TemplateFor(tools).Render(messages, tools, _options.Clock.GetLocalNow());

    /// <summary>A chat prompt's ids, with the functions the model may call, and what reading the reply needs.</summary>
    public ChatPrompt EncodeChat(IReadOnlyList<ChatTurn> messages, IReadOnlyList<ToolDefinition>? tools = null)
    {
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("the model is still loading");
        var template = TemplateFor(tools);
        // transformers renders such a template without the tools (and /apply-template shows that, as Jinja2 does), but a model
        // that is never shown the functions cannot call them; llama-server instead writes them into the system message, a prompt
        // the model's own template never produces. Neither is what the client asked for, so the request is refused.
        if (tools is not null && template.ToolFormat is { ShowsTools: false } hidden)
            throw new RequestValidationException("tools", $"the chat template of model '{ModelId}' never renders `tools` (its replies would be read as {hidden.Name}), " +
                "so the model would not see the functions offered; give the model a chat template that renders them (in its tokenizer_config.json), " +
                "or send the request without tools");
        var now = _options.Clock.GetLocalNow();
        var ids = new List<int>();
        if (!template.WritesBeginningOfSequence) tokenizer.AppendSequenceStart(ids);
        string last;
        if (template.Kind == ChatTemplateKind.Plain)
        {
            // No special tokens in the plain format: one pass over the whole text tokenizes exactly as
            // the model's own output did, which keeps the next turn's prefix identical.
            last = template.Render(messages, tools, now);
            tokenizer.Encode(last, ids);
        }
        else
        {
            var segments = template.Segments(messages, tools, now);
            foreach (var segment in segments) tokenizer.Encode(segment.Text, ids, parseSpecialTokens: segment.IsMarkup);
            last = segments.Count > 0 ? segments[^1].Text : "";
        }
        var stops = new List<int>();
        foreach (string token in template.EndOfTurnTokens) if (tokenizer.TryGetId(token, out int id)) stops.Add(id);
        // DeepSeek R1's template ends the prompt inside <think>, so the reply starts with thinking.
        // A call syntax's markers that are control tokens here would vanish when the reply is decoded.
        var kept = new Dictionary<int, string>();
        if (tools is not null && template.ToolFormat is { } format)
            foreach (string marker in format.Markers)
                if (tokenizer.TryGetId(marker, out int id) && tokenizer.IsControl(id)) kept[id] = marker;
        bool opensThinking = template.ReasoningMarkers is var (open, _) && last.TrimEnd().EndsWith(open, StringComparison.Ordinal);
        return new ChatPrompt(ids.ToArray(), stops.ToArray(), template, tools, opensThinking) { KeptMarkers = kept };
    }

    /// <summary>
    /// What the sampler enforces for one chat request, the same for the HTTP API and the in-process client: with
    /// <paramref name="json"/>, a JSON object (one that <paramref name="schema"/> allows, when given); else with
    /// <paramref name="forced"/>, a call of one of those functions; else nothing (null). Callers refuse a request
    /// that asks for JSON and offers tools before they encode it, each in its own API's words.
    /// </summary>
    /// <exception cref="RequestValidationException">The model has no token that could end a constrained reply.</exception>
    public Func<ITokenConstraint>? ReplyConstraint(ChatPrompt chat, bool json, JsonSchemaProgram? schema, IReadOnlyList<ToolDefinition>? forced)
    {
        if (json && forced is not null) throw new ArgumentException("a reply cannot be both a JSON object and a forced function call");
        if (json) return JsonConstraint(schema, chat.StopTokenIds);
        return forced is null ? null : ForcedCallConstraint(chat, forced);
    }

    /// <summary>
    /// JSON replies for one request: each sequence gets a constraint that admits only a JSON object (one that
    /// <paramref name="schema"/> allows, when given) and then one of <paramref name="stopTokenIds"/> or the
    /// end-of-sequence token.
    /// </summary>
    private Func<ITokenConstraint> JsonConstraint(JsonSchemaProgram? schema, IReadOnlyList<int> stopTokenIds)
    {
        var (table, ends) = ConstraintTables(stopTokenIds);
        return JsonReplyConstraint.Factory(table, ends, schema);
    }

    /// <summary>
    /// A forced function call for one request (<c>tool_choice</c> "required" or a named function): each sequence
    /// must write one call of one of <paramref name="functions"/> in the template's syntax (arguments following
    /// the function's parameter schema where it can be enforced), then end.
    /// </summary>
    private Func<ITokenConstraint> ForcedCallConstraint(ChatPrompt chat, IReadOnlyList<ToolDefinition> functions)
    {
        var format = chat.Template.ToolFormat ?? throw new InvalidOperationException("the template takes no tools");
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("the model is still loading");
        var parts = format.ForcedCall(functions, marker => !tokenizer.TryGetId(marker, out int id) || !tokenizer.IsControl(id))
            ?? throw new RequestValidationException("tool_choice",
                $"a call cannot be forced in this model's {format.Name} syntax: its markers are control tokens, which the sampler's grammar cannot write");
        var (table, ends) = ConstraintTables(chat.StopTokenIds);
        return () => new ByteGrammarConstraint<SequenceGrammar>(table, ends, new SequenceGrammar(parts));
    }

    private (TokenByteTable Table, int[] Ends) ConstraintTables(IReadOnlyList<int> stopTokenIds)
    {
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("the model is still loading");
        int[] ends = [.. stopTokenIds, .. tokenizer.EndOfSequenceId is int eos ? [eos] : Array.Empty<int>()];
        if (ends.Length == 0)
            throw new RequestValidationException("response_format", "this model has no end-of-sequence or end-of-turn token, so a constrained reply could never end");
        return (TokenByteTable.For(tokenizer, _loaded!.Config.VocabularySize), ends);
    }

    /// <summary>Token ids of a completion prompt, with the beginning-of-sequence token when the tokenizer asks for it.</summary>
    public int[] EncodeText(string text)
    {
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("the model is still loading");
        return tokenizer.EncodePrompt(text);
    }

    private static string DefaultName(string path)
    {
        string trimmed = path.TrimEnd('/', '\\');
        string name = Path.GetFileName(trimmed);
        return name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? name[..^5] : name.Length > 0 ? name : "model";
    }

    /// <summary>Stops the engine and releases the model.</summary>
    public void Dispose()
    {
        try { Loading.Wait(); } catch (AggregateException) { }
        _engine?.Dispose();
        if (_runner is not null && !ReferenceEquals(_runner, _loaded?.Model)) _runner.Dispose();
        _loaded?.Dispose();
        _draft?.Dispose();
        _pool?.Dispose();
    }
}
