CREATE TABLE common.trade_status_type (
	trade_status_type_id SMALLINT NOT NULL, 
	code VARCHAR(16) NOT NULL, 
	description VARCHAR, 
	is_active BOOLEAN DEFAULT true NOT NULL, 
	systime TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	PRIMARY KEY (trade_status_type_id), 
	UNIQUE (code)
);

