# bash completion for running kubectl-cclm and kubectl-cclm-* directly.
# (`kubectl cclm ...` needs nothing: kubectl asks kubectl_complete-cclm*.)
# Each executable answers `--completion-helper WORDS...` from its own option
# table with the cobra protocol: candidates, then a ":directive" line.
_kubectl_cclm() {
	local cur=${COMP_WORDS[COMP_CWORD]} out line directive=0
	out=$("${COMP_WORDS[0]}" --completion-helper "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
	COMPREPLY=()
	while IFS= read -r line; do
		case $line in
		:*) directive=${line#:} ;;
		*) [[ ${line%%$'\t'*} == "$cur"* ]] && COMPREPLY+=("${line%%$'\t'*}") ;;
		esac
	done <<<"$out"
	if [ ${#COMPREPLY[@]} -eq 0 ] && [ $((directive & 4)) -eq 0 ]; then
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}
complete -F _kubectl_cclm kubectl-cclm kubectl-cclm-enable kubectl-cclm-rbac kubectl-cclm-netcheck \
	kubectl-cclm-plan kubectl-cclm-migrate kubectl-cclm-status
