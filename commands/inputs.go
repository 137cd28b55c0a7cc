package commands

import "github.com/motcua/motcua/domain"

// NewInput returns an empty input for the action named in an API path, ready to decode a request
// body into.
func NewInput(action domain.Action) (Input, bool) {
	switch action {
	case domain.ActionReceive:
		return &AcceptInput{}, true
	case domain.ActionRefuseReception:
		return &RefuseInput{}, true
	case domain.ActionRequestSupplement:
		return &RequestSupplementInput{}, true
	case domain.ActionSupplement:
		return &SupplementInput{}, true
	case domain.ActionTransfer:
		return &TransferInput{}, true
	case domain.ActionInterAgencyTransfer:
		return &InterAgencyTransferInput{}, true
	case domain.ActionAppraise:
		return &AppraiseInput{}, true
	case domain.ActionSign:
		return &SignInput{}, true
	case domain.ActionAssessFee:
		return &AssessFeeInput{}, true
	case domain.ActionPay:
		return &PayInput{}, true
	case domain.ActionMarkResultReady:
		return &MarkResultReadyInput{}, true
	case domain.ActionReturnResult:
		return &ReturnResultInput{}, true
	case domain.ActionIssueApology:
		return &IssueApologyInput{}, true
	case domain.ActionSuspend:
		return &SuspendInput{}, true
	case domain.ActionResume:
		return &ResumeInput{}, true
	case domain.ActionWithdraw:
		return &WithdrawInput{}, true
	case domain.ActionReject:
		return &RejectInput{}, true
	case domain.ActionCompletePart:
		return &CompletePartInput{}, true
	case domain.ActionOriginalsArrived:
		return &OriginalsArrivedInput{}, true
	}
	return nil, false
}
