namespace Dclm.Chat.Jinja;

/// <summary>Calls: macros (and their call blocks' <c>caller</c>), loop.cycle and the built-in functions.</summary>
internal sealed partial class JinjaRenderer
{
    /// <summary>The body of a call block, which its macro renders with <c>caller(...)</c> in the scopes where the block stands.</summary>
    private sealed record Caller(List<(string Name, Expr? Default)> Parameters, List<Node> Body, List<Dictionary<string, object?>> Scopes);

    /// <summary><c>loop.cycle(a, b, ...)</c> of iteration <paramref name="Index"/>.</summary>
    private sealed record LoopCycle(int Index);

    private object? Call(CallExpr call)
    {
        var arguments = call.Arguments.Select(Evaluate).ToList();
        var named = Named(call.Named);
        if (call.Function is AttributeExpr method)
        {
            var target = Evaluate(method.Target);
            // A mapping's entry that can be called (loop.cycle, a macro kept in a namespace) is called; else a string or dict method.
            if (target is Dictionary<string, object?> members && members.TryGetValue(method.Name, out var member) && member is MacroNode or LoopCycle or Caller)
                return Invoke(member, arguments, named);
            return JinjaFunctions.Method(target, method.Name, arguments, named);
        }
        return Invoke(Evaluate(call.Function), arguments, named);
    }

    private object? Invoke(object? function, List<object?> arguments, Dictionary<string, object?> named)
    {
        switch (function)
        {
            case MacroNode macro: return CallMacro(macro, arguments, named);
            case Caller caller: return Render(caller.Body, caller.Parameters, arguments, named, caller.Scopes, "caller");
            case LoopCycle cycle: return arguments.Count > 0 ? arguments[cycle.Index % arguments.Count] : throw new JinjaException("loop.cycle needs at least one value");
            case Clock clock:
                return JinjaText.Markup(JinjaFormat.Strftime(clock.Now, arguments.Count > 0 ? ToText(arguments[0]).Value : throw new JinjaException("strftime_now needs a format")));
            case BuiltIn { Name: "raise_exception" }:
                throw new JinjaException(arguments.Count > 0 ? ToText(arguments[0]).Value : "the template raised an exception");
            case BuiltIn { Name: "namespace" }:
                var ns = new Namespace();
                foreach (var (key, value) in named) ns[key] = value;
                return ns;
            case BuiltIn { Name: "range" }:
                var bounds = arguments.Select(a => a is long l ? l : throw new JinjaException("range takes whole numbers")).ToList();
                long start = bounds.Count > 1 ? bounds[0] : 0, stop = bounds.Count > 1 ? bounds[1] : bounds.Count == 1 ? bounds[0] : 0, step = bounds.Count > 2 ? bounds[2] : 1;
                if (step == 0) throw new JinjaException("range step is zero");
                var range = new List<object?>();
                for (long i = start; step > 0 ? i < stop : i > stop; i += step)
                {
                    if (range.Count >= MaxIterations) throw new JinjaException($"range of more than {MaxIterations} numbers");
                    range.Add(i);
                }
                return range;
        }
        throw new JinjaException("only macros, caller, loop.cycle, range, namespace, strftime_now and raise_exception can be called");
    }

    /// <summary>A macro's body rendered with its parameters bound (missing ones from their defaults, else undefined).</summary>
    private JinjaText CallMacro(MacroNode macro, List<object?> arguments, Dictionary<string, object?> named, Caller? caller = null) =>
        // As in Jinja2, a macro sees the template's top-level names and its parameters, not its caller's locals.
        Render(macro.Body, macro.Parameters, arguments, named, _scopes.Take(1).ToList(), $"macro '{macro.Name}'", caller);

    /// <summary>
    /// <paramref name="body"/> rendered over <paramref name="scopes"/> plus one scope of the parameters bound to the
    /// arguments (missing ones from their defaults, else undefined), and <c>caller</c> when a call block passed one.
    /// </summary>
    private JinjaText Render(List<Node> body, List<(string Name, Expr? Default)> parameters, List<object?> arguments, Dictionary<string, object?> named,
        List<Dictionary<string, object?>> scopes, string what, Caller? caller = null)
    {
        if (arguments.Count > parameters.Count) throw new JinjaException($"{what} takes {parameters.Count} arguments, got {arguments.Count}");
        if (++_calls > 200) throw new JinjaException("macros nested more than 200 deep");
        var callerScopes = _scopes.ToList();
        try
        {
            _scopes.Clear();
            _scopes.AddRange(scopes);
            var scope = new Dictionary<string, object?>();
            _scopes.Add(scope);
            for (int i = 0; i < parameters.Count; i++)
            {
                var (name, fallback) = parameters[i];
                scope[name] = i < arguments.Count ? arguments[i]
                    : named.TryGetValue(name, out var value) ? value
                    : fallback is null ? Undefined.Instance : Evaluate(fallback);
            }
            if (caller is not null) scope["caller"] = caller;
            return Capture(body);
        }
        finally
        {
            _scopes.Clear();
            _scopes.AddRange(callerScopes);
            _calls--;
        }
    }
}
